import { STEPS, type StepName } from './suite.js';
import type { StepSummary } from './summary.js';

/**
 * The targets, each a ratio kloud/restic that must not exceed `maxRatio`
 * (times, sizes and memory alike: lower is better).
 */
export interface Target {
  readonly label: string;
  readonly maxRatio: number;
  /** The compared figure of one tool, or null when it was not measured. */
  readonly figure: (steps: readonly StepSummary[]) => number | null;
  readonly unit: 's' | 'MB';
}

const wall =
  (step: StepName) =>
  (steps: readonly StepSummary[]): number | null =>
    steps.find((s) => s.step === step)?.wallSeconds ?? null;

export const TARGETS: readonly Target[] = [
  {
    label: 'first backup ≥ 3× faster than restic',
    maxRatio: 1 / 3,
    figure: wall('backup-initial'),
    unit: 's',
  },
  {
    label: "no-change backup ≤ 0.5× restic's time",
    maxRatio: 0.5,
    figure: wall('backup-unchanged'),
    unit: 's',
  },
  { label: 'restore ≥ 2× faster than restic', maxRatio: 0.5, figure: wall('restore'), unit: 's' },
  { label: 'check --read-data ≥ 2× faster than restic', maxRatio: 0.5, figure: wall('check'), unit: 's' },
  {
    label: "store size ≤ restic's",
    maxRatio: 1,
    // after the last backup: what the three backups left in the store
    figure: (steps) => {
      const s = steps.find((x) => x.step === 'backup-modified');
      return s ? s.storeBytes / 1e6 : null;
    },
    unit: 'MB',
  },
  {
    label: "peak RSS (worst step) ≤ restic's",
    maxRatio: 1,
    // over every step, so only when every step ran
    figure: (steps) => {
      const rss = steps.map((s) => s.peakRssBytes).filter((v): v is number => v !== null);
      return rss.length === STEPS.length ? Math.max(...rss) / 1e6 : null;
    },
    unit: 'MB',
  },
  {
    label: "bytes added by the 5% change ≤ restic's",
    maxRatio: 1,
    figure: (steps) => {
      const s = steps.find((x) => x.step === 'backup-modified');
      return s ? s.storeBytesAdded / 1e6 : null;
    },
    unit: 'MB',
  },
];

export interface TargetResult {
  readonly label: string;
  readonly unit: string;
  readonly kloud: number | null;
  readonly restic: number | null;
  readonly ratio: number | null;
  readonly maxRatio: number;
  readonly met: boolean | null;
}

export function evaluateTargets(
  kloud: readonly StepSummary[],
  restic: readonly StepSummary[],
): TargetResult[] {
  return TARGETS.map((t) => {
    const k = t.figure(kloud);
    const r = t.figure(restic);
    const ratio = k !== null && r !== null && r > 0 ? k / r : null;
    return {
      label: t.label,
      unit: t.unit,
      kloud: k,
      restic: r,
      ratio,
      maxRatio: t.maxRatio,
      met: ratio === null ? null : ratio <= t.maxRatio,
    };
  });
}

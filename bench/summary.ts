import type { PressureStalls } from './pressure.js';
import { STEPS, type StepName, type StepSample, type ToolRun } from './suite.js';

/** The figure a table shows for one step of one tool: the median of each measure over the runs. */
export interface StepSummary {
  readonly step: StepName;
  readonly runs: number;
  readonly wallSeconds: number;
  readonly userSeconds: number | null;
  readonly systemSeconds: number | null;
  readonly peakRssBytes: number | null;
  /** logical bytes / median wall time, in MB/s (10^6 bytes); null for init. */
  readonly throughputMBps: number | null;
  readonly storeBytes: number;
  readonly storeBytesAdded: number;
  /** Machine-wide stall seconds (median of each kind); null without PSI. */
  readonly stalls: PressureStalls | null;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function medianOrNull(values: readonly (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length > 0 ? median(present) : null;
}

function medianStalls(all: readonly (PressureStalls | null)[]): PressureStalls | null {
  const present = all.filter((s): s is PressureStalls => s !== null);
  if (present.length === 0) return null;
  const m = (k: keyof PressureStalls): number => median(present.map((s) => s[k]));
  return {
    cpuSome: m('cpuSome'),
    ioSome: m('ioSome'),
    ioFull: m('ioFull'),
    memorySome: m('memorySome'),
    memoryFull: m('memoryFull'),
  };
}

export function summarizeStep(step: StepName, samples: readonly StepSample[]): StepSummary {
  const wallSeconds = median(samples.map((s) => s.wallSeconds));
  const logical = samples[0]?.logicalBytes ?? null;
  return {
    step,
    runs: samples.length,
    wallSeconds,
    userSeconds: medianOrNull(samples.map((s) => s.userSeconds)),
    systemSeconds: medianOrNull(samples.map((s) => s.systemSeconds)),
    peakRssBytes: medianOrNull(samples.map((s) => s.peakRssBytes)),
    throughputMBps: logical === null || wallSeconds <= 0 ? null : logical / 1e6 / wallSeconds,
    storeBytes: median(samples.map((s) => s.storeBytes)),
    storeBytesAdded: median(samples.map((s) => s.storeBytesAdded)),
    stalls: medianStalls(samples.map((s) => s.stalls)),
  };
}

/** Per step, in step order; a step no run reached is absent. */
export function summarizeRuns(runs: readonly ToolRun[]): StepSummary[] {
  const out: StepSummary[] = [];
  for (const step of STEPS) {
    const samples = runs.flatMap((r) => r.steps.filter((s) => s.step === step));
    if (samples.length > 0) out.push(summarizeStep(step, samples));
  }
  return out;
}

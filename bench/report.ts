import type { Corpus } from './corpus.js';
import type { Floors } from './floors.js';
import type { MachineDescription } from './machine.js';
import type { Measurement } from './meter.js';
import { STEP_LABELS, type StepName } from './suite.js';
import { median, type StepSummary } from './summary.js';
import type { TargetResult } from './targets.js';
import type { ToolName } from './tools/backup-tool.js';

/**
 * The Markdown printed on stdout. The first table is the one to read (and the one the smoke test
 * parses): kloud's medians per step and its time ratios to restic and Borg, lower is better.
 */

const MISSING = 'n/a';

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? MISSING : value.toFixed(digits);
}

const mb = (bytes: number | null): string => fixed(bytes === null ? null : bytes / 1e6, 1);

function table(header: string[], align: ('l' | 'r')[], rows: string[][]): string {
  const sep = align.map((a) => (a === 'r' ? '---:' : '---'));
  return [header, sep, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** (user + sys) / wall: ~1 is one core busy, ~2 both cores here; well below 1 is waiting (I/O, fsync). */
function coresBusy(s: StepSummary): number | null {
  return s.userSeconds === null || s.systemSeconds === null || s.wallSeconds <= 0
    ? null
    : (s.userSeconds + s.systemSeconds) / s.wallSeconds;
}

function timeRatio(kloud: StepSummary, peer: readonly StepSummary[] | undefined): string {
  const p = peer?.find((s) => s.step === kloud.step);
  return p && p.wallSeconds > 0 ? fixed(kloud.wallSeconds / p.wallSeconds, 2) : MISSING;
}

const KLOUD_TABLE_HEADER = [
  'step',
  'wall s',
  'MB/s',
  'peak RSS MB',
  'user s',
  'sys s',
  'CPU/wall',
  'store MB',
  'added MB',
  'time kloud/restic',
  'time kloud/borg',
];

export function kloudTable(summaries: Partial<Record<ToolName, StepSummary[]>>): string {
  const rows = (summaries.kloud ?? []).map((s) => [
    STEP_LABELS[s.step],
    fixed(s.wallSeconds, 2),
    fixed(s.throughputMBps, 1),
    mb(s.peakRssBytes),
    fixed(s.userSeconds, 2),
    fixed(s.systemSeconds, 2),
    fixed(coresBusy(s), 2),
    mb(s.storeBytes),
    mb(s.storeBytesAdded),
    timeRatio(s, summaries.restic),
    timeRatio(s, summaries.borg),
  ]);
  return table(KLOUD_TABLE_HEADER, ['l', ...KLOUD_TABLE_HEADER.slice(1).map(() => 'r' as const)], rows);
}

export function targetsTable(results: readonly TargetResult[]): string {
  const rows = results.map((t) => [
    t.label,
    t.kloud === null ? MISSING : `${fixed(t.kloud, 2)} ${t.unit}`,
    t.restic === null ? MISSING : `${fixed(t.restic, 2)} ${t.unit}`,
    fixed(t.ratio, 2),
    `≤ ${t.maxRatio.toFixed(2)}`,
    t.met === null ? MISSING : t.met ? 'yes' : '**no**',
  ]);
  return table(
    ['target', 'kloud', 'restic', 'kloud/restic', 'goal', 'met'],
    ['l', 'r', 'r', 'r', 'r', 'l'],
    rows,
  );
}

/** Every tool's medians side by side, step by step. */
export function allToolsTable(
  summaries: Partial<Record<ToolName, StepSummary[]>>,
  tools: readonly ToolName[],
): string {
  const steps = new Set<StepName>(tools.flatMap((t) => (summaries[t] ?? []).map((s) => s.step)));
  const rows: string[][] = [];
  for (const step of steps) {
    for (const tool of tools) {
      const s = summaries[tool]?.find((x) => x.step === step);
      if (!s) continue;
      rows.push([
        STEP_LABELS[step],
        tool,
        fixed(s.wallSeconds, 2),
        fixed(s.throughputMBps, 1),
        mb(s.peakRssBytes),
        fixed(s.userSeconds, 2),
        fixed(s.systemSeconds, 2),
        fixed(coresBusy(s), 2),
        fixed(s.stalls?.cpuSome, 1),
        fixed(s.stalls?.ioSome, 1),
        mb(s.storeBytes),
        mb(s.storeBytesAdded),
      ]);
    }
  }
  return table(
    [
      'step',
      'tool',
      'wall s',
      'MB/s',
      'peak RSS MB',
      'user s',
      'sys s',
      'CPU/wall',
      'CPU wait s',
      'I/O wait s',
      'store MB',
      'added MB',
    ],
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows,
  );
}

/** The machine's own limits, medians over the runs. */
export function floorsLine(floors: readonly Floors[], corpusBytes: number): string {
  const wall = (pick: (f: Floors) => Measurement): number => median(floors.map((f) => pick(f).wallSeconds));
  const read = wall((f) => f.read);
  const copy = wall((f) => f.copy);
  const sys = floors.map((f) => f.copy.systemSeconds).filter((v): v is number => v !== null);
  const rate = (seconds: number): string => fixed(corpusBytes / 1e6 / seconds, 0);
  return (
    `Floors on this machine: \`tar\` reading the corpus from the page cache ${fixed(read, 2)} s (${rate(read)} MB/s); ` +
    `\`cp -a\` of the corpus ${fixed(copy, 2)} s (${rate(copy)} MB/s` +
    `${sys.length ? `, ${fixed(median(sys), 2)} s sys` : ''}), the best any restore can do here. ` +
    `1-minute load average at the start of each run: ${floors.map((f) => f.loadAverage.toFixed(1)).join(', ')}.`
  );
}

export interface ReportInput {
  readonly command: string;
  readonly corpus: Corpus;
  readonly modifiedFiles: number;
  readonly runs: number;
  readonly machine: MachineDescription;
  readonly measuredWith: string;
  readonly tools: readonly ToolName[];
  readonly summaries: Partial<Record<ToolName, StepSummary[]>>;
  readonly targets: readonly TargetResult[] | undefined;
  readonly floors: readonly Floors[];
  readonly errors: readonly string[];
  readonly resultsFile: string;
}

export function renderReport(r: ReportInput): string {
  const m = r.machine;
  const versions = r.tools.map((t) => `${t} ${m.tools[t] ?? '?'}`).join(', ');
  const parts = [
    `## kloud benchmark: ${r.corpus.size} corpus, median of ${r.runs} run${r.runs === 1 ? '' : 's'}`,
    '',
    `\`${r.command}\` on ${m.cpuModel} (${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB), ` +
      `${m.os}, Node ${m.node}; ${versions}. Corpus: ${r.corpus.fileCount} files, ` +
      `${(r.corpus.totalBytes / 1e6).toFixed(1)} MB (seed ${r.corpus.seed}, fingerprint ${r.corpus.fingerprint.slice(0, 12)}); ` +
      `the 5% change rewrites 4 KiB in ${r.modifiedFiles} files. MB = 10^6 bytes; MB/s = corpus bytes / wall time; ` +
      `ratios are times, lower is better. CPU and RSS from ${r.measuredWith}; CPU/wall = (user + sys) / wall; ` +
      'CPU wait and I/O wait: machine-wide seconds in which some task waited for a CPU or for I/O (/proc/pressure).',
  ];
  if (r.summaries.kloud?.length) parts.push('', kloudTable(r.summaries));
  if (r.floors.length > 0) parts.push('', floorsLine(r.floors, r.corpus.totalBytes));
  if (r.targets) parts.push('', targetsTable(r.targets));
  if (r.tools.length > 1) parts.push('', allToolsTable(r.summaries, r.tools));
  if (r.errors.length > 0)
    parts.push('', '**Failures:**', '', ...r.errors.map((e) => `- ${e.replace(/\n/g, '\n  ')}`));
  parts.push('', `Raw figures: ${r.resultsFile}`);
  return parts.join('\n');
}

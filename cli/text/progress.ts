/**
 * Progress on stderr, only when stderr is a terminal: amount done, rate, and a percentage and ETA
 * when the total is known. Anywhere else (pipes, files, CI logs) commands stay quiet.
 */
import { formatBytes, formatDuration } from './human-units.js';
import { terminalText } from './name-text.js';

export interface ProgressSample {
  /** Amount done, in the progress's unit. */
  done: number;
  total?: number;
  /** Counters shown beside the amount, e.g. `12 files`. */
  detail?: string;
  /** What is being worked on now. */
  path?: string;
}

export interface Progress {
  update(sample: ProgressSample): void;
  stop(): void;
}

export type ProgressUnit = 'bytes' | 'items';

const QUIET: Progress = { update: () => undefined, stop: () => undefined };

/** cli-progress is loaded only when a terminal will show it: it costs start-up time. */
async function startProgress(
  stderr: NodeJS.WriteStream,
  title: string,
  unit: ProgressUnit,
): Promise<Progress> {
  if (!stderr.isTTY) return QUIET;
  const { SingleBar } = await import('cli-progress');
  const started = Date.now();
  let last: ProgressSample = { done: 0 };
  const bar = new SingleBar({
    stream: stderr,
    hideCursor: true,
    clearOnComplete: true,
    fps: 10,
    format: () => describe(title, unit, last, Date.now() - started, stderr.columns ?? 80),
  });
  bar.start(0, 0);
  return {
    update(sample) {
      last = sample;
      bar.update(sample.done);
    },
    stop() {
      bar.stop();
    },
  };
}

/** Runs `work` with a progress display that is stopped whatever happens. */
export async function withProgress<T>(
  stderr: NodeJS.WriteStream,
  title: string,
  unit: ProgressUnit,
  work: (progress: Progress) => Promise<T>,
): Promise<T> {
  const progress = await startProgress(stderr, title, unit);
  try {
    return await work(progress);
  } finally {
    progress.stop();
  }
}

function describe(
  title: string,
  unit: ProgressUnit,
  sample: ProgressSample,
  elapsedMs: number,
  width: number,
) {
  const amount = (n: number) => (unit === 'bytes' ? formatBytes(n) : String(Math.round(n)));
  const rate = elapsedMs > 0 ? (sample.done * 1000) / elapsedMs : 0;
  const parts = [title];
  if (sample.total) parts.push(`${Math.min(100, Math.floor((sample.done * 100) / sample.total))}%`);
  if (sample.detail) parts.push(sample.detail);
  parts.push(sample.total ? `${amount(sample.done)}/${amount(sample.total)}` : amount(sample.done));
  parts.push(`${amount(rate)}/s`);
  if (sample.total && rate > 0) {
    parts.push(`ETA ${formatDuration((Math.max(0, sample.total - sample.done) * 1000) / rate)}`);
  }
  const line = parts.join(' | ');
  const room = width - line.length - 4;
  return sample.path && room > 10 ? `${line} | ${ellipsize(terminalText(sample.path), room)}` : line;
}

function ellipsize(text: string, room: number): string {
  return text.length <= room ? text : `…${text.slice(text.length - room + 1)}`;
}

import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { readPressure, stallsBetween, type PressureStalls } from './pressure.js';

/**
 * Runs one child process and measures it: wall time always; peak RSS and user/system CPU from
 * GNU time (`/usr/bin/time -v`) when present. Without it, a Node child reports its own
 * `process.resourceUsage()` at exit through a preload module, and any other child gets wall
 * time only (`usageSource: 'none'`). Node has no getrusage(RUSAGE_CHILDREN), hence the preload.
 */

export type UsageSource = 'gnu-time' | 'node-resource-usage' | 'none';

export interface Measurement {
  readonly wallSeconds: number;
  readonly userSeconds: number | null;
  readonly systemSeconds: number | null;
  readonly peakRssBytes: number | null;
  readonly usageSource: UsageSource;
  /** Machine-wide stall seconds during the command (pressure.ts); null without PSI. */
  readonly stalls: PressureStalls | null;
}

export interface CommandSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** `command` is Node running a script (`args[0]`): lets the fallback measure it. */
  readonly node?: boolean;
}

export interface CommandResult {
  readonly measurement: Measurement;
  readonly stdout: string;
  readonly stderr: string;
}

export class CommandFailed extends Error {
  constructor(
    readonly spec: CommandSpec,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    const tail = stderr.trim().split('\n').slice(-5).join('\n');
    // Node's own exit code when the event loop emptied while a top-level await was pending
    const hint = spec.node && exitCode === 13 ? ' (Node: a top-level await never settled)' : '';
    super(
      `${[spec.command, ...spec.args].join(' ')} exited with ${exitCode}${hint}${tail ? `:\n${tail}` : ''}`,
    );
    this.name = 'CommandFailed';
  }
}

export const GNU_TIME = '/usr/bin/time';
const OUTPUT_LIMIT = 16 << 20;

const PRELOAD = `import { writeFileSync } from 'node:fs';
const out = process.env.KLOUD_BENCH_USAGE_FILE;
if (out) {
  delete process.env.KLOUD_BENCH_USAGE_FILE;
  process.on('exit', () => writeFileSync(out, JSON.stringify(process.resourceUsage())));
}
`;

function gnuTimeWorks(): boolean {
  const r = spawnSync(GNU_TIME, ['-v', 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return r.status === 0 && r.stderr.toString().includes('Maximum resident set size');
}

/** Fields of `/usr/bin/time -v`; null where a field is missing. */
type ResourceUsage = Pick<Measurement, 'userSeconds' | 'systemSeconds' | 'peakRssBytes'>;

export function parseGnuTime(text: string): ResourceUsage {
  const field = (label: string): number | null => {
    const m = new RegExp(`${label}: *([0-9.]+)`).exec(text);
    return m ? Number(m[1]) : null;
  };
  const rssKiB = field('Maximum resident set size \\(kbytes\\)');
  return {
    userSeconds: field('User time \\(seconds\\)'),
    systemSeconds: field('System time \\(seconds\\)'),
    peakRssBytes: rssKiB === null ? null : rssKiB * 1024,
  };
}

/** process.resourceUsage(): times in microseconds, maxRSS in kilobytes. */
function parseResourceUsage(text: string): ResourceUsage {
  const u = JSON.parse(text) as { userCPUTime: number; systemCPUTime: number; maxRSS: number };
  return {
    userSeconds: u.userCPUTime / 1e6,
    systemSeconds: u.systemCPUTime / 1e6,
    peakRssBytes: u.maxRSS * 1024,
  };
}

function collect(stream: NodeJS.ReadableStream | null, keepTail: boolean): () => string {
  const parts: Buffer[] = [];
  let size = 0;
  stream?.on('data', (b: Buffer) => {
    parts.push(b);
    size += b.length;
    while (size > OUTPUT_LIMIT && parts.length > 1)
      size -= (keepTail ? parts.shift() : parts.pop())?.length ?? 0;
  });
  return () => Buffer.concat(parts).toString('utf8');
}

export class Meter {
  private counter = 0;

  private constructor(
    private readonly dir: string,
    readonly gnuTime: boolean,
  ) {}

  /** How CPU time and peak RSS are taken, for the report. */
  get method(): string {
    return this.gnuTime
      ? '/usr/bin/time -v'
      : 'process.resourceUsage() of the Node child (none for restic and Borg without GNU time)';
  }

  /** `useGnuTime: false` forces the fallback (tests exercise both paths). */
  static async create(workDir: string, opts: { useGnuTime?: boolean } = {}): Promise<Meter> {
    const dir = join(workDir, 'meter');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'child-usage.mjs'), PRELOAD);
    return new Meter(dir, (opts.useGnuTime ?? true) && gnuTimeWorks());
  }

  /** Runs the command to completion; throws CommandFailed on a non-zero exit. */
  async run(spec: CommandSpec): Promise<CommandResult> {
    const usageFile = join(this.dir, `usage-${process.pid}-${this.counter++}`);
    let command = spec.command;
    let args = [...spec.args];
    const env = { ...spec.env };
    let source: UsageSource = 'none';
    if (this.gnuTime) {
      args = ['-v', '-o', usageFile, command, ...args];
      command = GNU_TIME;
      source = 'gnu-time';
    } else if (spec.node) {
      args = ['--import', pathToFileURL(join(this.dir, 'child-usage.mjs')).href, ...args];
      env.KLOUD_BENCH_USAGE_FILE = usageFile;
      source = 'node-resource-usage';
    }

    const pressureBefore = readPressure();
    const started = performance.now();
    const child = spawn(command, args, { env, cwd: spec.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout = collect(child.stdout, false);
    const stderr = collect(child.stderr, true);
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code));
    });
    const wallSeconds = (performance.now() - started) / 1000;
    const pressureAfter = readPressure();
    const stalls = pressureBefore && pressureAfter ? stallsBetween(pressureBefore, pressureAfter) : null;
    if (exitCode !== 0) {
      await rm(usageFile, { force: true });
      throw new CommandFailed(spec, exitCode, stderr());
    }

    let usage: ResourceUsage = {
      userSeconds: null,
      systemSeconds: null,
      peakRssBytes: null,
    };
    if (source !== 'none') {
      try {
        const text = await readFile(usageFile, 'utf8');
        usage = source === 'gnu-time' ? parseGnuTime(text) : parseResourceUsage(text);
      } catch {
        source = 'none'; // the child left no usage report (it bypassed its exit handlers)
      }
      await rm(usageFile, { force: true });
    }
    return {
      measurement: { wallSeconds, ...usage, usageSource: source, stalls },
      stdout: stdout(),
      stderr: stderr(),
    };
  }
}

/**
 * Commands run one after the other as one step: times add up, the peak RSS is the largest, and
 * a figure one command lacks is lacking for the step.
 */
export function inSequence(results: readonly CommandResult[]): CommandResult {
  const sum = (pick: (m: Measurement) => number | null) =>
    results.some((r) => pick(r.measurement) === null)
      ? null
      : results.reduce((n, r) => n + pick(r.measurement)!, 0);
  const peaks = results.map((r) => r.measurement.peakRssBytes);
  return {
    measurement: {
      ...results.at(-1)!.measurement,
      wallSeconds: sum((m) => m.wallSeconds)!,
      userSeconds: sum((m) => m.userSeconds),
      systemSeconds: sum((m) => m.systemSeconds),
      peakRssBytes: peaks.includes(null) ? null : Math.max(...(peaks as number[])),
    },
    stdout: results.map((r) => r.stdout).join(''),
    stderr: results.map((r) => r.stderr).join(''),
  };
}

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { locateRepoRoot, parseOptions } from '../../bench/options.js';
import { STEP_LABELS, STEPS } from '../../bench/suite.js';
import { runToolBenchmark } from '../../bench/tool-benchmark.js';

const repoRoot = locateRepoRoot(fileURLToPath(new URL('.', import.meta.url)));
const kloudCli = join(repoRoot, 'dist', 'bin', 'kloud.js');
let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'kloud-bench-test-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** The harness's output, captured instead of printed. */
function capture(): { out: (t: string) => void; log: (l: string) => void; text: () => string } {
  let text = '';
  return { out: (t) => (text += t), log: () => undefined, text: () => text };
}

function options(args: string[]) {
  return parseOptions(
    [
      '--size',
      'tiny',
      '--runs',
      '1',
      '--work-dir',
      workDir,
      '--results-dir',
      join(workDir, 'results'),
      ...args,
    ],
    repoRoot,
  );
}

/** The first Markdown table of `text`: header cells and rows of cells. */
function firstTable(text: string): { header: string[]; rows: string[][] } {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('|'));
  const cells = (l: string): string[] =>
    l
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
  const [header, separator, ...rows] = lines.slice(start, end === -1 ? undefined : end);
  expect(separator).toMatch(/^\|( ?-+:? ?\|)+$/);
  return { header: cells(header as string), rows: rows.map(cells) };
}

/**
 * A stand-in for the kloud CLI with the same command syntax, whose "store" holds plain copies,
 * and whose restore gets one file wrong: the harness must catch it.
 */
async function writeStandIn(): Promise<string> {
  const path = join(workDir, 'broken-kloud.mjs');
  await writeFile(
    path,
    `import { appendFileSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const [at, store, command, ...rest] = process.argv.slice(2);
if (at === '--version') { console.log('0.0.0-stand-in'); process.exit(0); }
const snaps = () => readdirSync(store).filter((n) => n.startsWith('snap-')).sort();
switch (command) {
  case 'create': mkdirSync(store); break;
  case 'backup':
    cpSync(rest[0], join(store, 'snap-' + snaps().length), { recursive: true });
    writeFileSync(join(store, 'source'), rest[0]);
    break;
  case 'restore': {
    const to = join(rest[rest.indexOf('--to') + 1], readFileSync(join(store, 'source'), 'utf8'));
    cpSync(join(store, snaps().at(-1)), to, { recursive: true });
    appendFileSync(join(to, 'synthetic', 'vm-disk.img'), 'x');
    break;
  }
  case 'check': break;
  case 'info': console.log(JSON.stringify({ snapshots: snaps().length })); break;
  default: process.exit(2);
}
`,
  );
  return path;
}

describe('npm run bench (harness)', () => {
  test('a tiny kloud-only run completes and prints a table of every step with numeric figures', async () => {
    if (!existsSync(kloudCli)) throw new Error(`${kloudCli} is missing: run npm run build first`);
    const io = capture();
    const result = await runToolBenchmark(options(['--only', 'kloud']), io);
    expect(result.markdown).not.toContain('Failures');
    expect(result.ok).toBe(true);

    const { header, rows } = firstTable(io.text());
    expect(rows.map((r) => r[0])).toEqual(STEPS.map((s) => STEP_LABELS[s]));
    const cell = (row: string[], column: string): string => {
      expect(header).toContain(column);
      return row[header.indexOf(column)] as string;
    };
    const numeric = /^\d+(\.\d+)?$/;
    for (const row of rows) {
      for (const column of ['wall s', 'peak RSS MB', 'user s', 'sys s', 'CPU/wall', 'store MB']) {
        expect(cell(row, column)).toMatch(numeric);
      }
      // prune shrinks the store
      expect(cell(row, 'added MB')).toMatch(/^-?\d+(\.\d+)?$/);
      // init and prune read no corpus bytes: no throughput
      if (row[0] !== STEP_LABELS.init && row[0] !== STEP_LABELS['forget-prune'])
        expect(cell(row, 'MB/s')).toMatch(numeric);
      // kloud only: no peer to compare with
      expect([cell(row, 'time kloud/restic'), cell(row, 'time kloud/borg')]).toEqual(['n/a', 'n/a']);
    }
    const first = rows.find((r) => r[0] === STEP_LABELS['backup-initial']) as string[];
    expect(Number(cell(first, 'store MB'))).toBeGreaterThan(0); // the first backup stored something
    const storeMb = (step: keyof typeof STEP_LABELS) =>
      Number(
        cell(
          rows.find((r) => r[0] === STEP_LABELS[step])!,
          'store MB',
        ),
      );
    expect(storeMb('forget-prune')).toBeLessThanOrEqual(storeMb('check'));

    const raw = JSON.parse(await readFile(result.resultsFile, 'utf8')) as {
      machine: { cpuModel: string; cores: number; node: string; tools: Record<string, string> };
      runs: { kloud: { restoredFilesVerified: number }[] };
      corpus: { files: number };
    };
    expect(raw.machine.cores).toBeGreaterThan(0);
    expect(raw.machine.node).toBe(process.versions.node);
    expect(raw.runs.kloud[0]?.restoredFilesVerified).toBe(raw.corpus.files);
  });

  test('a restore that differs from the corpus fails the run and is reported', async () => {
    const io = capture();
    const cli = await writeStandIn();
    const result = await runToolBenchmark(
      options(['--only', 'kloud', '--kloud-cli', cli, '--no-gnu-time']),
      io,
    );
    expect(result.ok).toBe(false);
    expect(io.text()).toContain('kloud: restore latest failed: restored tree differs from the corpus');
    expect(io.text()).toContain('size synthetic/vm-disk.img');
    // Without GNU time, a Node child still reports its CPU and peak RSS (process.resourceUsage()).
    const { header, rows } = firstTable(io.text());
    expect(rows.map((r) => r[0])).toContain(STEP_LABELS.restore);
    for (const row of rows) expect(Number(row[header.indexOf('peak RSS MB')])).toBeGreaterThan(0);
  });

  test('a missing peer is refused with how to install it', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(runToolBenchmark(options(['--only', 'restic']), capture())).rejects.toThrow(
        /restic is not on PATH: apt-get install restic[\s\S]*--only kloud/,
      );
    } finally {
      process.env.PATH = saved;
    }
  });
});

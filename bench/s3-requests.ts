/**
 * `npm run bench:s3`: kloud and restic backing up the same corpus into the same s3rver on
 * 127.0.0.1, through a request counter. Reports time, throughput, peak RSS and S3 requests per
 * GB, so a backup bound by request count shows as such (s3rver answers ~170 small PUTs a second).
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { S3RVER_KEY, startS3rver } from '../local/s3rver.js';
import { CORPUS_SIZES, type CorpusSize, buildCorpus } from './corpus.js';
import { Meter, type Measurement } from './meter.js';
import { locateRepoRoot } from './options.js';
import { type RequestCounts, RequestCounter } from './request-counter.js';
import type { BackupTool, ToolWorkspace } from './tools/backup-tool.js';
import { Kloud } from './tools/kloud.js';
import { Restic } from './tools/restic.js';

const BUCKET = 'bench';
const GB = 1e9;

interface Row {
  readonly tool: string;
  readonly backup: Measurement;
  readonly requests: RequestCounts;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { size: { type: 'string' }, seed: { type: 'string' } } });
  const size = (values.size ?? 'small') as CorpusSize;
  if (!CORPUS_SIZES.includes(size)) throw new Error(`--size must be one of ${CORPUS_SIZES.join(', ')}`);
  const repoRoot = locateRepoRoot(fileURLToPath(new URL('.', import.meta.url)));
  const workDir = join(repoRoot, 'bench', 'work');
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const corpus = await buildCorpus({ workDir, size, seed: Number(values.seed ?? 1), log });
  const runDir = join(workDir, 's3-run');
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true });
  const server = await startS3rver(join(runDir, 's3rver'), [BUCKET]);
  const counter = await RequestCounter.start(server.endpoint);
  const meter = await Meter.create(runDir);
  const rows: Row[] = [];
  try {
    const query = `endpoint=${counter.endpoint}&force_path_style=true&access_key=${S3RVER_KEY}&secret_access_key=${S3RVER_KEY}`;
    const workspace = (tool: string, store: string): ToolWorkspace => ({
      dir: join(runDir, tool),
      store,
      meter,
      passphrase: 'bench passphrase',
      env: {
        AWS_ACCESS_KEY_ID: S3RVER_KEY,
        AWS_SECRET_ACCESS_KEY: S3RVER_KEY,
        AWS_DEFAULT_REGION: 'us-east-1',
      },
    });
    const tools: BackupTool[] = [
      new Kloud(
        workspace('kloud', `s3://${BUCKET}/kloud?${query}`),
        join(repoRoot, 'dist', 'bin', 'kloud.js'),
      ),
      new Restic(workspace('restic', `s3:${counter.endpoint}/${BUCKET}/restic`)),
    ];
    for (const tool of tools) {
      for (const dir of ['home', 'tmp']) await mkdir(join(runDir, tool.name, dir), { recursive: true });
      log(`${tool.name}: init`);
      await tool.init();
      counter.take();
      log(`${tool.name}: backup of ${corpus.fileCount} files, ${(corpus.totalBytes / 1e6).toFixed(0)} MB`);
      const { measurement } = await tool.backup(corpus.root, 'first');
      rows.push({ tool: tool.name, backup: measurement, requests: counter.take() });
    }
  } finally {
    await counter.stop();
    await server.stop();
  }
  process.stdout.write(report(rows, corpus.totalBytes, corpus.fileCount, size));
}

function report(rows: readonly Row[], bytes: number, files: number, size: string): string {
  const lines = [
    `S3 backup to s3rver on 127.0.0.1, corpus ${size}: ${files} files, ${(bytes / 1e6).toFixed(0)} MB`,
    '',
    '| tool | wall s | MB/s | user+sys s | peak RSS MB | requests | per GB read | per GB uploaded | by operation |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const { tool, backup: m, requests: r } of rows) {
    const cpu = m.userSeconds === null ? '–' : (m.userSeconds + (m.systemSeconds ?? 0)).toFixed(1);
    const rss = m.peakRssBytes === null ? '–' : (m.peakRssBytes / 1e6).toFixed(0);
    const ops = Object.entries(r.byOperation)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([op, n]) => `${op} ${n}`)
      .join(', ');
    lines.push(
      `| ${tool} | ${m.wallSeconds.toFixed(1)} | ${(bytes / 1e6 / m.wallSeconds).toFixed(0)} | ${cpu} | ${rss} | ${r.requests} | ${(r.requests / (bytes / GB)).toFixed(0)} | ${(r.requests / (r.uploadedBytes / GB)).toFixed(0)} | ${ops} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

await main();

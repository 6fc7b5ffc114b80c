import type { RunFigures, ServerlessBenchResult } from './serverless-bench.js';

const GB = 1e9;
const MB = 1e6;

/** `GET 120, PUT 4` in a fixed order of operations. */
function operations(counts: Record<string, number>, per = 1): string {
  return Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, n]) => `${op} ${(n / per).toFixed(per === 1 ? 0 : 1)}`)
    .join(', ');
}

function row(r: RunFigures): string {
  const gbRead = r.bytesRead / GB;
  const cells = [
    r.round,
    String(r.workers),
    String(r.batches),
    r.wallSeconds.toFixed(1),
    (r.bytesRead / MB).toFixed(0),
    String(r.objectsRead),
    gbRead > 0 ? (r.worker.cpuSeconds / gbRead).toFixed(1) : '–',
    (r.worker.peakRssBytes / MB).toFixed(0),
    `${r.plan.seconds.toFixed(1)} / ${(r.plan.peakRssBytes / MB).toFixed(0)}`,
    `${r.commit.seconds.toFixed(1)} / ${(r.commit.peakRssBytes / MB).toFixed(0)}`,
    operations(r.sourceRequests),
    operations(r.storeRequests),
  ];
  return `| ${cells.join(' | ')} |`;
}

/** Requests per GB read, for the runs that read enough for the ratio to mean something. */
function perGbRow(r: RunFigures): string {
  const gbRead = r.bytesRead / GB;
  return `| ${r.round} | ${r.workers} | ${operations(r.sourceRequests, gbRead)} | ${operations(r.storeRequests, gbRead)} |`;
}

/** The benchmark's figures as Markdown tables, for the terminal and docs/SCALING.md. */
export function renderServerlessReport(result: ServerlessBenchResult): string {
  const { options: o, machine: m } = result;
  const lines = [
    `Serverless backup on s3rver (127.0.0.1): ${result.sourceObjects} objects, ${(result.sourceBytes / MB).toFixed(0)} MB; ` +
      `second run after ${result.changed} objects (${o.changePercent} %) changed`,
    `batches of at most ${(o.maxBatchBytes / 2 ** 20).toFixed(0)} MiB / ${o.maxBatchEntries} entries, ` +
      `index memory budget ${(o.indexMemoryBudget / 2 ** 20).toFixed(0)} MiB, seed ${o.seed}`,
    `${m.cpuModel}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB, Node ${m.node}`,
    '',
    '| run | workers | batches | wall s | MB read | objects read | worker CPU s/GB | peak worker RSS MB | plan s / RSS MB | commit s / RSS MB | source requests | store requests |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
    ...result.runs.map(row),
    '',
    'S3 requests per GB read',
    '',
    '| run | workers | source | store |',
    '|---|---:|---|---|',
    ...result.runs.map(perGbRow),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The first step of a restore from a store whose data packs are in archive storage (S3 GLACIER,
 * DEEP_ARCHIVE): ask for their retrieval, say what it takes, and let the restore go on only once
 * every pack it needs is readable.
 */
import { InvalidArgumentError, Option } from 'commander';
import type { RetrievalStatus, RetrievalTier, Store } from '../layers/kloset/index.js';
import { formatBytes, plural } from './text/human-units.js';
import type { Output } from './text/output.js';

export interface RetrievalFlags {
  tier: RetrievalTier;
  days: number;
  wait?: boolean;
}

export function tierOption(): Option {
  return new Option('--tier <tier>', 'retrieval speed from archive storage (S3 GLACIER, DEEP_ARCHIVE)')
    .choices(['expedited', 'standard', 'bulk'])
    .default('standard');
}

export function daysOption(): Option {
  return new Option('--days <days>', 'how many days retrieved data stays readable')
    .argParser(parseDays)
    .default(7);
}

export function waitOption(): Option {
  return new Option('--wait', 'wait until retrieved from archive storage, then restore');
}

function parseDays(text: string): number {
  if (!/^[1-9]\d{0,4}$/.test(text))
    throw new InvalidArgumentError('expected a whole number of days, 1 or more');
  return Number(text);
}

/**
 * Asks for the archived packs the restore needs (waiting for them with `--wait`). True when the
 * restore can go on; false when retrievals are still pending (then their status is printed).
 */
export async function retrieveArchived(
  store: Store,
  snapshot: string,
  path: string | undefined,
  flags: RetrievalFlags,
  out: Output,
): Promise<boolean> {
  const opts = { tier: flags.tier, days: flags.days };
  let ready = -1;
  const status = flags.wait
    ? await store.waitForRetrieval(snapshot, path, {
        ...opts,
        onPoll: (s) => {
          if (s.ready !== ready) out.note(`retrieved ${s.ready} of ${plural(s.needed, 'data pack')}`);
          ready = s.ready;
        },
      })
    : await store.retrieval(snapshot, path, opts);
  if (status.pending === 0) {
    if (status.needed > 0)
      out.note(
        `${plural(status.needed, 'data pack')} (${formatBytes(status.bytes)}) read from retrieved copies`,
      );
    return true;
  }
  out.print({ snapshot, path: path ?? '/', tier: flags.tier, retrieval: status }, (r) =>
    describePending(r.retrieval, r.tier),
  );
  out.note(
    flags.wait
      ? 'note: gave up waiting; run the same restore again later'
      : 'note: run the same restore again once the retrieval is done (it asks for nothing twice), or add --wait',
  );
  // nobody need keep a terminal open for hours: a control plane's restore task waits on its own
  out.note(
    "note: or, from a store app of a kloud control plane, let it wait and restore: 'kloud remote restore APP SNAPSHOT PATH --to-app APP --path PATH --wait' (--dry-run shows the cost first)",
  );
  return false;
}

function describePending(s: RetrievalStatus, tier: RetrievalTier): string {
  const earlier = s.pending - s.requested;
  return [
    `this restore needs ${plural(s.needed, 'data pack')} (${formatBytes(s.bytes)}) in ${s.archives.join(', ')}: ` +
      `${s.ready} ready, ${s.pending} being retrieved (${s.requested} asked for now${earlier > 0 ? `, ${earlier} earlier` : ''})`,
    `a ${tier} retrieval typically takes ${formatHours(s.estimate.hours)}; ` +
      `estimated cost of this request ${formatUsd(s.estimate.costUsd)} (AWS list prices)`,
  ].join('\n');
}

function formatHours([min, max]: readonly [number, number]): string {
  if (max < 1) return `${Math.round(min * 60)}–${Math.round(max * 60)} minutes`;
  return min === max ? `up to ${max} hours` : `${min}–${max} hours`;
}

function formatUsd(usd: number): string {
  if (usd > 0 && usd < 0.01) return 'under $0.01';
  return `$${usd.toFixed(2)}`;
}

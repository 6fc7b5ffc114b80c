import type { Retrieval, RetrievalStatus } from './retrieval.js';

export interface WaitOptions {
  /** give up after this long (then `pending` > 0); default: twice the longest typical retrieval time */
  timeoutMs?: number;
  /** first pause between polls, default 1 s; each pause doubles, up to `maxPollMs` */
  firstPollMs?: number;
  /** default: 5 % of the longest typical retrieval time, at most 15 minutes */
  maxPollMs?: number;
  /** after each poll */
  onPoll?: (status: RetrievalStatus) => void;
  /** the clock (tests replace it) */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const HOUR_MS = 3_600_000;
const MAX_POLL_MS = 15 * 60_000;

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls a retrieval with exponential backoff until every pack is readable or the deadline
 * passes. The deadline and the longest pause follow from the archive's published times, so a
 * five-hour retrieval is polled every 15 minutes at most, not every second.
 */
export async function waitForRetrieval(
  retrieval: Retrieval,
  opts: WaitOptions = {},
): Promise<RetrievalStatus> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? realSleep;
  const longestMs = retrieval.status().estimate.hours[1] * HOUR_MS;
  const deadline = now() + (opts.timeoutMs ?? 2 * longestMs);
  const firstPollMs = opts.firstPollMs ?? 1000;
  const maxPollMs = opts.maxPollMs ?? Math.max(firstPollMs, Math.min(MAX_POLL_MS, longestMs / 20));
  let pause = firstPollMs;
  while (retrieval.pending > 0 && now() < deadline) {
    await sleep(Math.min(pause, deadline - now()));
    await retrieval.poll();
    opts.onPoll?.(retrieval.status());
    pause = Math.min(pause * 2, maxPollMs);
  }
  return retrieval.status();
}

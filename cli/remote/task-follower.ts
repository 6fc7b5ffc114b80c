/**
 * `--wait`: follows a task until it ends, polling with growing pauses (1 s, then ×1.5 up to 15 s)
 * for at most the given time. Progress shows as a bar on a terminal and as plain lines in CI logs.
 * Ctrl-C stops the following, never the task: it goes on, and the error says how to follow it again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FINAL_STATES, isLive, type Task } from '../../layers/control/tasks/task.js';
import { CliError, EXIT } from '../failures/errors.js';
import { formatDuration } from '../text/human-units.js';
import { type Progress, withProgress } from '../text/progress.js';
import type { ApiClient } from './api-client.js';
import { progressText } from './task-text.js';

const FIRST_PAUSE_MS = 1000;
const MAX_PAUSE_MS = 15_000;
const GROWTH = 1.5;
/** Plain progress lines (no terminal) at most this often, unless the state changes. */
const LINE_INTERVAL_MS = 10_000;

export async function followTask(
  api: ApiClient,
  first: Task,
  stderr: NodeJS.WriteStream,
  timeoutMs: number,
): Promise<Task> {
  const interrupt = new AbortController();
  const onInterrupt = () => interrupt.abort();
  process.once('SIGINT', onInterrupt);
  try {
    return await withProgress(stderr, `${first.type} ${first.id.slice(0, 8)}`, 'items', (bar) =>
      poll(api, first, timeoutMs, interrupt.signal, stderr.isTTY ? barShow(bar) : lineShow(stderr)),
    );
  } catch (err) {
    if (!interrupt.signal.aborted) throw err;
    throw new CliError(
      `stopped following task ${first.id}: it goes on running`,
      `follow it again with: kloud remote task ${first.id} --wait (or cancel it: kloud remote cancel ${first.id})`,
      EXIT.interrupted,
      { code: 'INTERRUPTED' },
    );
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

async function poll(
  api: ApiClient,
  first: Task,
  timeoutMs: number,
  signal: AbortSignal,
  show: (task: Task) => void,
): Promise<Task> {
  const deadline = Date.now() + timeoutMs;
  let task = first;
  let pause = FIRST_PAUSE_MS;
  for (;;) {
    show(task);
    if (FINAL_STATES.includes(task.state)) return task;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new CliError(
        `task ${task.id} is still ${task.state} after ${formatDuration(timeoutMs)}`,
        `follow it again with: kloud remote task ${task.id} --wait (--wait-timeout sets how long)`,
        EXIT.pending,
        { code: 'STILL_RUNNING' },
      );
    }
    await sleep(Math.min(pause, left), undefined, { signal });
    pause = Math.min(pause * GROWTH, MAX_PAUSE_MS);
    task = await untilAborted(api.get<Task>(`/tasks/${task.id}`), signal);
  }
}

/** A request in flight when Ctrl-C comes is not waited for. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function barShow(bar: Progress): (task: Task) => void {
  return (task) => {
    const progress = task.progress;
    if (!progress) return bar.update({ done: 0, detail: task.state });
    bar.update({
      done: progress.done,
      ...(progress.total !== undefined && { total: progress.total }),
      // a cold restore counts the packs retrieved before it counts files
      detail: task.state === 'waiting-for-retrieval' ? `${progress.unit} retrieved` : progress.unit,
      ...(progress.message !== undefined && { path: progress.message }),
    });
  };
}

/** One line per change of state, and per change of progress at most every LINE_INTERVAL_MS. */
function lineShow(stderr: NodeJS.WritableStream): (task: Task) => void {
  let lastState = '';
  let lastLine = '';
  let lastAt = 0;
  return (task) => {
    const line = `task ${task.id} ${task.state}${task.progress && isLive(task.state) ? `: ${progressText(task.progress)}` : ''}`;
    const now = Date.now();
    if (line === lastLine || (task.state === lastState && now - lastAt < LINE_INTERVAL_MS)) return;
    stderr.write(`${line}\n`);
    [lastState, lastLine, lastAt] = [task.state, line, now];
  };
}

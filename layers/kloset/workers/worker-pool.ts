import { type Worker, parentPort } from 'node:worker_threads';
import { startWorker } from './start-worker.js';

/** One request or its answer, as it crosses between threads. */
interface Envelope<T> {
  readonly id: number;
  readonly body: T;
}

interface Thread {
  readonly worker: Worker;
  /** requests sent to this thread and not answered yet, by envelope ID */
  readonly pending: Map<number, { resolve: (body: never) => void; reject: (err: Error) => void }>;
}

/** What a worker's handler returns: the answer, and the buffers to move (not copy) with it. */
export interface Answer<T> {
  readonly body: T;
  readonly transfer: ArrayBuffer[];
}

/**
 * A fixed set of worker threads running one entry module, which answers each request with one
 * message (`serveRequests`). A request goes to the thread with the fewest outstanding. A thread
 * that dies fails the requests it held and every later one: the operation using the pool must
 * stop rather than carry on with a hole in its output.
 */
export class WorkerPool<Request, Response> {
  private readonly threads: Thread[] = [];
  private nextId = 0;
  private failure: Error | undefined;
  private closing = false;

  /** `what` names the work in errors ("sealing"); `entry` is the `.js` URL of the worker module. */
  constructor(
    private readonly what: string,
    entry: URL,
    size: number,
    workerData: unknown,
  ) {
    for (let i = 0; i < Math.max(1, size); i++) this.threads.push(this.start(entry, workerData));
  }

  private start(entry: URL, workerData: unknown): Thread {
    const thread: Thread = { worker: startWorker(entry, workerData), pending: new Map() };
    thread.worker.on('message', ({ id, body }: Envelope<never>) => {
      const waiting = thread.pending.get(id);
      thread.pending.delete(id);
      waiting?.resolve(body);
    });
    thread.worker.on('error', (err) => this.fail(err));
    thread.worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`the thread exited (code ${code})`));
    });
    return thread;
  }

  private fail(cause: Error): void {
    this.failure ??= new Error(`a ${this.what} worker thread failed: ${cause.message}`, { cause });
    for (const t of this.threads) {
      for (const waiting of t.pending.values()) waiting.reject(this.failure);
      t.pending.clear();
    }
  }

  /** Sends a request, moving the `transfer` buffers to the worker (they are unusable here after). */
  run(request: Request, transfer: readonly ArrayBuffer[]): Promise<Response> {
    if (this.failure) return Promise.reject(this.failure);
    const thread = this.threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise<Response>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ id, body: request } satisfies Envelope<Request>, [...transfer]);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}

/**
 * `data` as a view that owns its whole ArrayBuffer, so that it can be moved to a thread: copied
 * when it shares its memory (Node's pool of small buffers, a slice of a larger read).
 */
export function movable(data: Buffer): Uint8Array {
  if (data.byteOffset === 0 && data.length === data.buffer.byteLength) return data;
  const copy = Buffer.allocUnsafeSlow(data.length);
  data.copy(copy);
  return copy;
}

/**
 * The worker side: answers every request with what `handle` returns. An exception is not
 * answered: it ends the thread, and the pool fails.
 */
export function serveRequests<Request, Response>(handle: (request: Request) => Answer<Response>): void {
  const port = parentPort;
  if (!port) throw new Error('serveRequests runs in a worker thread');
  port.on('message', ({ id, body }: Envelope<Request>) => {
    const answer = handle(body);
    port.postMessage({ id, body: answer.body } satisfies Envelope<Response>, answer.transfer);
  });
}

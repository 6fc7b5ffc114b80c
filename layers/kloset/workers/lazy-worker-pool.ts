import type { WorkerPool } from './worker-pool.js';

/**
 * Requests for a worker pool that is started only once the work is worth it: the first
 * `mainThreadBytes` are handled on the main thread, by the same handler the workers run, so a
 * small backup or check starts no thread (~50 ms built; seconds when threads load TypeScript
 * through tsx, as under jest).
 */
export class LazyWorkerPool<Request, Response> {
  private handledHere = 0;
  private local: ((request: Request) => Response) | undefined;
  private workers: WorkerPool<Request, Response> | undefined;

  constructor(
    private readonly startWorkers: () => WorkerPool<Request, Response>,
    private readonly startLocal: () => (request: Request) => Response,
    private readonly mainThreadBytes: number,
  ) {}

  /** Handles a request of `bytes` bytes, here or (moving `transfer`) in a worker. */
  async run(request: Request, bytes: number, transfer: () => ArrayBuffer[]): Promise<Response> {
    if (!this.workers && this.handledHere + bytes <= this.mainThreadBytes) {
      this.handledHere += bytes;
      return (this.local ??= this.startLocal())(request);
    }
    this.local = undefined;
    this.workers ??= this.startWorkers();
    return this.workers.run(request, transfer());
  }

  async close(): Promise<void> {
    await this.workers?.close();
  }
}

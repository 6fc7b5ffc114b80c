/** Entry of a writing worker thread (started by restore/file-batches.ts through the worker pool). */
import { workerData } from 'node:worker_threads';
import { serveRequests } from '../workers/worker-pool.js';
import { type FilesToWrite, FileWriter, type WriteOutcome, type WriteSettings } from './file-writing.js';

const writer = new FileWriter(workerData as WriteSettings);

serveRequests<FilesToWrite, WriteOutcome>((request) => ({
  body: writer.write(request),
  transfer: [request.sealed.buffer as ArrayBuffer],
}));

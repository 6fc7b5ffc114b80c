/** Entry of a sealing worker thread (started by sealing/seal-queue.ts through the worker pool). */
import { workerData } from 'node:worker_threads';
import { serveRequests } from '../workers/worker-pool.js';
import type { SealSettings } from './batch-sealer.js';
import { type SealAnswer, type SealRequest, sealTransferList, sealingHandler } from './seal-requests.js';

const handle = sealingHandler(workerData as SealSettings);

serveRequests<SealRequest, SealAnswer>((request) => {
  const answer = handle(request);
  return { body: answer, transfer: sealTransferList(answer) };
});

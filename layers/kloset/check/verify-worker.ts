/** Entry of a verifying worker thread (started by check/check.ts through the worker pool). */
import { workerData } from 'node:worker_threads';
import { serveRequests } from '../workers/worker-pool.js';
import {
  type PackToVerify,
  PackVerifier,
  type VerifiedPack,
  type VerifySettings,
} from './pack-verification.js';

const verifier = new PackVerifier(workerData as VerifySettings);

serveRequests<PackToVerify, VerifiedPack>((request) => ({
  body: verifier.verify(request),
  transfer: [request.data.buffer as ArrayBuffer],
}));

/** A sealing worker that dies on its first batch: how a bug or a native crash looks to the pool. */
import { serveRequests } from '../../../../layers/kloset/workers/worker-pool.js';

serveRequests(() => {
  throw new Error('simulated crash while sealing');
});

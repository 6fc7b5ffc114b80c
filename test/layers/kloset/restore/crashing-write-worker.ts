/** A writing worker that dies on its first request, to test how a restore handles it. */
import { serveRequests } from '../../../../layers/kloset/workers/worker-pool.js';

serveRequests(() => {
  throw new Error('simulated crash while writing');
});

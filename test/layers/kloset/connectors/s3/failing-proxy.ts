/**
 * A proxy in front of s3rver that answers with S3 server errors (500 InternalError, 503
 * SlowDown) on command: from now on, or from the moment a snapshot is committed (the first index
 * delta written). Deterministic: every request after that point fails, none before it.
 */
import { type IncomingMessage, type ServerResponse, Agent, createServer } from 'node:http';
import { once } from 'node:events';
import type { S3rverHandle } from './s3rver.js';
import { answerS3Error, requestUpstream } from './s3rver-upstream.js';

export type ServerErrorStatus = 500 | 503;

const S3_CODE: Record<ServerErrorStatus, string> = { 500: 'InternalError', 503: 'SlowDown' };

export interface FailingProxy {
  readonly endpoint: string;
  /** connector options reaching s3rver through the proxy */
  readonly options: Record<string, string>;
  /** the status every request is answered with; undefined passes requests on */
  failWith: ServerErrorStatus | undefined;
  /** sets `failWith` once an index delta has been written (a snapshot committed) */
  failAfterCommit(status: ServerErrorStatus | undefined): void;
  /** requests answered with an error so far */
  readonly failures: number;
  close(): Promise<void>;
}

function serverError(res: ServerResponse, status: ServerErrorStatus): void {
  answerS3Error(res, status, {
    code: S3_CODE[status],
    message: 'failing on purpose',
    requestId: 'failing-proxy',
  });
}

/** Starts the proxy on 127.0.0.1 (ephemeral port) in front of `upstream`. */
export async function startFailingProxy(upstream: S3rverHandle): Promise<FailingProxy> {
  const agent = new Agent({ keepAlive: true });
  let afterCommit: ServerErrorStatus | undefined;
  let failures = 0;

  const isIndexWrite = (req: IncomingMessage): boolean =>
    req.method === 'PUT' && new URL(req.url!, 'http://proxy').pathname.split('/').includes('index');

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const up = requestUpstream(upstream, agent, req, (upRes) => {
      if (afterCommit !== undefined && isIndexWrite(req) && upRes.statusCode === 200)
        proxy.failWith = afterCommit;
      res.writeHead(upRes.statusCode!, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };

  const server = createServer((req, res) => {
    const status = proxy.failWith;
    if (status === undefined) return forward(req, res);
    failures++;
    // the request's body is read and dropped, so the client sees the answer, not a reset
    req.resume();
    req.on('end', () => serverError(res, status));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;

  const proxy: FailingProxy = {
    endpoint,
    options: { ...upstream.options, endpoint },
    failWith: undefined,
    failAfterCommit: (status) => {
      afterCommit = status;
    },
    get failures() {
      return failures;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
  return proxy;
}

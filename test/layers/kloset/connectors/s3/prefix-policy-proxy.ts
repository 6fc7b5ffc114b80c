/**
 * S3 as it answers a caller whose `s3:ListBucket` carries an `s3:prefix` condition (a store
 * bucket given with a prefix, lib/store-buckets.ts), in front of s3rver:
 *   - GET or HEAD of a missing key: 403 AccessDenied, not 404 (S3 does not tell a caller that may
 *     not list the bucket whether a key exists);
 *   - a listing whose `prefix` does not start with `allowedPrefix`: 403 AccessDenied;
 *   - GET or HEAD of a key in `denied`: 403 AccessDenied although it exists (a real refusal);
 *   - with `failingListings` set, every listing: 400 InvalidArgument (a listing failing otherwise
 *     than by a refusal, answered at once: not retried, unlike a throttle).
 * Everything else passes through, streamed. Listings are recorded with their parameters.
 */
import { type IncomingMessage, type ServerResponse, Agent, createServer } from 'node:http';
import { once } from 'node:events';
import type { S3rverHandle } from './s3rver.js';
import { answerS3Error, requestUpstream } from './s3rver-upstream.js';

export interface Listing {
  readonly prefix: string;
  readonly maxKeys?: number;
}

export interface PrefixPolicyProxy {
  readonly endpoint: string;
  /** connector options reaching s3rver through the proxy */
  readonly options: Record<string, string>;
  /** keys whose GET and HEAD are refused although they exist */
  readonly denied: Set<string>;
  /** listings answered 400 InvalidArgument while set */
  failingListings: boolean;
  /** the listings asked for, in order */
  readonly listings: Listing[];
  /** key-level reads answered 403 because the key was missing */
  readonly hiddenMisses: number;
  close(): Promise<void>;
}

function accessDenied(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  if (req.method === 'HEAD') {
    // HEAD answers carry no body: the client knows only the status
    res.writeHead(403, { 'content-length': 0 });
    res.end();
    return;
  }
  answerS3Error(res, 403, {
    code: 'AccessDenied',
    message: 'Access Denied',
    requestId: 'prefix-policy-proxy',
  });
}

/** Starts the proxy on 127.0.0.1 (ephemeral port) in front of `upstream`; `allowedPrefix` as in the condition. */
export async function startPrefixPolicyProxy(
  upstream: S3rverHandle,
  allowedPrefix: string,
): Promise<PrefixPolicyProxy> {
  const agent = new Agent({ keepAlive: true });
  const listings: Listing[] = [];
  let hiddenMisses = 0;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url!, 'http://proxy');
    const [, , ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const keyRead = key !== '' && (req.method === 'GET' || req.method === 'HEAD');
    if (key === '' && req.method === 'GET' && url.searchParams.get('list-type') === '2') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const maxKeys = url.searchParams.get('max-keys');
      listings.push({ prefix, ...(maxKeys !== null && { maxKeys: Number(maxKeys) }) });
      if (!prefix.startsWith(allowedPrefix)) return accessDenied(req, res);
      if (proxy.failingListings) {
        req.resume();
        return answerS3Error(res, 400, {
          code: 'InvalidArgument',
          message: 'Invalid Argument',
          requestId: 'prefix-policy-proxy',
        });
      }
    }
    if (keyRead && proxy.denied.has(key)) return accessDenied(req, res);
    const up = requestUpstream(upstream, agent, req, (upRes) => {
      if (keyRead && upRes.statusCode === 404) {
        hiddenMisses++;
        upRes.resume();
        return accessDenied(req, res);
      }
      res.writeHead(upRes.statusCode!, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };

  const server = createServer(handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;

  const proxy: PrefixPolicyProxy = {
    endpoint,
    options: { ...upstream.options, endpoint },
    denied: new Set(),
    failingListings: false,
    listings,
    get hiddenMisses() {
      return hiddenMisses;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
  return proxy;
}

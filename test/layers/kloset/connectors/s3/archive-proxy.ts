/**
 * S3's archive semantics in front of s3rver, which stores `StorageClass: GLACIER` but serves such
 * objects like any other. The proxy remembers the class each object was written with and then
 * answers as S3 does:
 *   - GET of a GLACIER or DEEP_ARCHIVE object: 403 InvalidObjectState until a RestoreObject
 *     (`POST ?restore`) was received and `restoreDelayMs` passed;
 *   - HEAD: `x-amz-restore: ongoing-request="true"`, then
 *     `ongoing-request="false", expiry-date="..."`;
 *   - RestoreObject: 202 the first time, 409 RestoreAlreadyInProgress while it runs, 200 once
 *     the copy is readable; 403 InvalidObjectState for an object that is not archived;
 *   - ListObjectsV2: each object's own StorageClass (s3rver always says STANDARD).
 * Everything else passes through, streamed, headers kept. Its clock can be moved forward, so
 * tests need not wait hours (or seconds) for a retrieval.
 */
import {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
  Agent,
  createServer,
} from 'node:http';
import { once } from 'node:events';
import type { S3rverHandle } from './s3rver.js';
import { answerS3Error, requestUpstream } from './s3rver-upstream.js';

const ARCHIVE_CLASSES = new Set(['GLACIER', 'DEEP_ARCHIVE']);

/** One request as the proxy saw it, with the status it answered. */
export interface ProxiedRequest {
  readonly method: string;
  /** the object key (without the bucket); '' for bucket requests */
  readonly key: string;
  /** `restore` for RestoreObject, `list` for listings, else undefined */
  readonly action?: 'restore' | 'list';
  /** RestoreObject's tier and days */
  readonly tier?: string;
  readonly days?: number;
  status?: number;
}

interface Retrieval {
  readonly readyAt: number;
  days: number;
}

export interface ArchiveProxy {
  readonly endpoint: string;
  /** connector options reaching s3rver through the proxy */
  readonly options: Record<string, string>;
  readonly requests: ProxiedRequest[];
  /** how long a retrieval takes, from its RestoreObject */
  restoreDelayMs: number;
  /** moves the proxy's clock forward */
  advance(ms: number): void;
  /** the storage class an object was written with (undefined: STANDARD) */
  storageClass(key: string): string | undefined;
  close(): Promise<void>;
}

function s3Error(res: ServerResponse, status: number, code: string, message: string, extra = ''): void {
  answerS3Error(res, status, { code, message, extra, requestId: 'archive-proxy' });
}

async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Starts the proxy on 127.0.0.1 (ephemeral port) in front of `upstream`. */
export async function startArchiveProxy(
  upstream: S3rverHandle,
  restoreDelayMs = 60_000,
): Promise<ArchiveProxy> {
  const classes = new Map<string, string>();
  const retrievals = new Map<string, Retrieval>();
  const requests: ProxiedRequest[] = [];
  const agent = new Agent({ keepAlive: true });
  let offset = 0;
  const now = (): number => Date.now() + offset;

  /** Sends the request on to s3rver; `rewrite` may change a buffered answer's body and headers. */
  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer | undefined,
    edit?: { headers?: (h: IncomingHttpHeaders) => void; body?: (b: string) => string },
  ): Promise<number> =>
    new Promise((resolve, reject) => {
      const up = requestUpstream(upstream, agent, req, (upRes) => {
        const headers = { ...upRes.headers };
        edit?.headers?.(headers);
        if (edit?.body && upRes.statusCode === 200) {
          void readBody(upRes).then((b) => {
            const text = Buffer.from(edit.body!(b.toString('utf8')));
            delete headers['transfer-encoding'];
            res.writeHead(200, { ...headers, 'content-length': text.length });
            res.end(text);
            resolve(200);
          }, reject);
          return;
        }
        res.writeHead(upRes.statusCode!, headers);
        upRes.pipe(res);
        upRes.on('end', () => resolve(upRes.statusCode!));
      });
      up.on('error', reject);
      if (body) up.end(body);
      else req.pipe(up);
    });

  const restoreHeader = (key: string): string | undefined => {
    const r = retrievals.get(key);
    if (!r) return undefined;
    if (now() < r.readyAt) return 'ongoing-request="true"';
    const expiry = new Date(r.readyAt + r.days * 86_400_000).toUTCString();
    return `ongoing-request="false", expiry-date="${expiry}"`;
  };

  const restore = async (
    req: IncomingMessage,
    res: ServerResponse,
    seen: ProxiedRequest,
  ): Promise<number> => {
    const xml = (await readBody(req)).toString('utf8');
    const days = Number(/<Days>(\d+)<\/Days>/.exec(xml)?.[1] ?? 1);
    Object.assign(seen, { tier: /<Tier>(\w+)<\/Tier>/.exec(xml)?.[1] ?? 'Standard', days });
    if (!ARCHIVE_CLASSES.has(classes.get(seen.key) ?? '')) {
      s3Error(
        res,
        403,
        'InvalidObjectState',
        "Restore is not allowed for the object's current storage class",
      );
      return 403;
    }
    const r = retrievals.get(seen.key);
    if (r && now() < r.readyAt) {
      s3Error(res, 409, 'RestoreAlreadyInProgress', 'Object restore is already in progress');
      return 409;
    }
    if (r) r.days = days;
    else retrievals.set(seen.key, { readyAt: now() + proxy.restoreDelayMs, days });
    const status = r ? 200 : 202;
    res.writeHead(status, { 'content-length': 0 });
    res.end();
    return status;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const url = new URL(req.url!, 'http://proxy');
    const [, , ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const method = req.method!;
    const action = url.searchParams.has('restore')
      ? 'restore'
      : key === '' && method === 'GET'
        ? 'list'
        : undefined;
    const seen: ProxiedRequest = { method, key, ...(action && { action }) };
    requests.push(seen);
    const archived = ARCHIVE_CLASSES.has(classes.get(key) ?? '');

    if (action === 'restore') return (seen.status = await restore(req, res, seen));
    if (action === 'list')
      return (seen.status = await forward(req, res, undefined, {
        body: (xml) =>
          xml.replace(/<Contents>([\s\S]*?)<\/Contents>/g, (contents, inner: string) => {
            const listed = /<Key>([^<]*)<\/Key>/.exec(inner)?.[1] ?? '';
            const own = classes.get(listed.replace(/&amp;/g, '&'));
            return own
              ? contents.replace(/<StorageClass>\w+<\/StorageClass>/, `<StorageClass>${own}</StorageClass>`)
              : contents;
          }),
      }));
    if ((method === 'PUT' || (method === 'POST' && url.searchParams.has('uploads'))) && key !== '') {
      const storageClass = req.headers['x-amz-storage-class'];
      if (typeof storageClass === 'string' && !req.headers['x-amz-copy-source'])
        classes.set(key, storageClass);
    }
    if (method === 'DELETE' && key !== '') {
      classes.delete(key);
      retrievals.delete(key);
    }
    if (method === 'GET' && archived && !/ongoing-request="false"/.test(restoreHeader(key) ?? '')) {
      s3Error(
        res,
        403,
        'InvalidObjectState',
        "The operation is not valid for the object's storage class",
        `<StorageClass>${classes.get(key)}</StorageClass>`,
      );
      return (seen.status = 403);
    }
    const header = method === 'HEAD' && archived ? restoreHeader(key) : undefined;
    return (seen.status = await forward(req, res, undefined, {
      headers: (h) => {
        if (header) h['x-amz-restore'] = header;
      },
    }));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) s3Error(res, 500, 'InternalError', String(err));
      else res.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;

  const proxy: ArchiveProxy = {
    endpoint,
    options: { ...upstream.options, endpoint },
    requests,
    restoreDelayMs,
    advance: (ms) => {
      offset += ms;
    },
    storageClass: (key) => classes.get(key),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
  return proxy;
}

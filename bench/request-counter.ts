import { type IncomingMessage, type ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What went through the counter: requests by S3 operation, and the bytes sent up. */
export interface RequestCounts {
  readonly byOperation: Record<string, number>;
  /** requests by operation and object path: `GET /bucket/prefix/config` */
  readonly byObject: Record<string, number>;
  readonly requests: number;
  readonly uploadedBytes: number;
}

/**
 * minio-go (restic's S3 client) signs bodies as `aws-chunked` streams over plain HTTP, which
 * s3rver 3.7.1 stores undecoded (restic then fails to read its own key file). The counter
 * decodes them on the way through; S3 itself does this server-side.
 */
const STREAMING = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';

/** `SIZE_HEX;chunk-signature=...\r\nDATA\r\n` ... `0;chunk-signature=...\r\n\r\n` → the data. */
function decodeAwsChunked(raw: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(raw.subarray(at, eol).toString('latin1').split(';')[0]!, 16);
    if (!(size > 0)) break;
    out.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** Names a request by its S3 operation, from method and query (path-style addressing). */
function operation(req: IncomingMessage): string {
  const query = new URL(req.url ?? '/', 'http://x').searchParams;
  if (req.method === 'GET') return query.has('list-type') || query.has('prefix') ? 'LIST' : 'GET';
  if (req.method === 'PUT') return query.has('partNumber') ? 'PUT part' : 'PUT';
  if (req.method === 'POST')
    return query.has('uploads') ? 'POST initiate' : query.has('uploadId') ? 'POST complete' : 'POST';
  return req.method ?? '?';
}

/**
 * A pass-through HTTP proxy on 127.0.0.1 that counts the S3 requests a tool makes, so two tools
 * writing the same data to the same server can be compared by request count, not only by time.
 */
export class RequestCounter {
  private counts: Record<string, number> = {};
  private objects: Record<string, number> = {};
  private uploaded = 0;
  private readonly server = createServer((req, res) => this.forward(req, res));

  private constructor(private readonly upstream: URL) {}

  static async start(upstream: string): Promise<RequestCounter> {
    const counter = new RequestCounter(new URL(upstream));
    await new Promise<void>((resolve) => counter.server.listen(0, '127.0.0.1', resolve));
    return counter;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The counts since the last reset, and a fresh start. */
  take(): RequestCounts {
    const byOperation = this.counts;
    const taken = {
      byOperation,
      byObject: this.objects,
      requests: Object.values(byOperation).reduce((a, b) => a + b, 0),
      uploadedBytes: this.uploaded,
    };
    this.counts = {};
    this.objects = {};
    this.uploaded = 0;
    return taken;
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const op = operation(req);
    this.counts[op] = (this.counts[op] ?? 0) + 1;
    const object = `${op} ${new URL(req.url ?? '/', 'http://x').pathname}`;
    this.objects[object] = (this.objects[object] ?? 0) + 1;
    const send = (headers: IncomingMessage['headers'], body?: Buffer) => {
      const up = request(
        {
          host: this.upstream.hostname,
          port: this.upstream.port,
          method: req.method,
          path: req.url,
          headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      if (body) up.end(body);
      else req.pipe(up);
    };
    if (req.headers['x-amz-content-sha256'] !== STREAMING) {
      req.on('data', (chunk: Buffer) => (this.uploaded += chunk.length));
      return send(req.headers);
    }
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => {
      const body = decodeAwsChunked(Buffer.concat(parts));
      this.uploaded += body.length;
      const headers: IncomingMessage['headers'] = {
        ...req.headers,
        'content-length': String(body.length),
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      };
      delete headers['x-amz-decoded-content-length'];
      delete headers['content-encoding'];
      send(headers, body);
    });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

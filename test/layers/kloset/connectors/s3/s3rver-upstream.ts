/**
 * What the test proxies in front of s3rver share: passing a request on to s3rver, and answering
 * with an S3 error document as S3 does.
 */
import {
  type Agent,
  type ClientRequest,
  type IncomingMessage,
  type ServerResponse,
  request,
} from 'node:http';
import type { S3rverHandle } from './s3rver.js';

/** Sends `req` (method, path, headers) on to s3rver; the caller writes or pipes the body. */
export function requestUpstream(
  upstream: S3rverHandle,
  agent: Agent,
  req: IncomingMessage,
  onResponse: (upRes: IncomingMessage) => void,
): ClientRequest {
  return request(
    {
      host: '127.0.0.1',
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent,
    },
    onResponse,
  );
}

/** Answers with S3's XML error document; `extra` is more XML inside `<Error>`. */
export function answerS3Error(
  res: ServerResponse,
  status: number,
  error: { code: string; message: string; requestId: string; extra?: string },
): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${error.message}</Message>${error.extra ?? ''}<RequestId>${error.requestId}</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

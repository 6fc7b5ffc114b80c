/**
 * The API client against a scripted server on loopback: what is tried again and what is not,
 * pages followed, and errors reduced to one line without what must not be shown.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ApiClient } from '../../../cli/remote/api-client.js';
import { CliError } from '../../../cli/failures/errors.js';

type Script = (req: IncomingMessage, body: string, res: ServerResponse) => void;

let server: Server;
let client: ApiClient;
let script: Script;
const requests: { method: string; url: string; key?: string; auth?: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    requests.push({
      method: req.method!,
      url: req.url!,
      key: req.headers['idempotency-key'] as string,
      auth: req.headers.authorization,
      body,
    });
    res.setHeader('content-type', 'application/json');
    script(req, body, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  client = new ApiClient({
    url: new URL(`http://127.0.0.1:${port}/v1/`),
    authorization: { kind: 'token', token: 'the-token' },
  });
});

beforeEach(() => {
  requests.length = 0;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

/** Answers 503 the first `failures` times, then 200 with `answer`. */
function busyThen(failures: number, answer: unknown): Script {
  let seen = 0;
  return (_req, _body, res) => {
    if (seen++ < failures) res.writeHead(503).end(JSON.stringify({ message: 'Service Unavailable' }));
    else res.writeHead(200).end(JSON.stringify(answer));
  };
}

test('a read is tried again after a 503, below the base URL path, with the bearer token', async () => {
  script = busyThen(1, { id: 'x' });
  await expect(client.get('/tasks/x')).resolves.toEqual({ id: 'x' });
  expect(requests.map((r) => [r.url, r.auth])).toEqual([
    ['/v1/tasks/x', 'Bearer the-token'],
    ['/v1/tasks/x', 'Bearer the-token'],
  ]);
});

test('a write with an Idempotency-Key is tried again with the same key; one without is not', async () => {
  script = busyThen(2, { id: 't' });
  await expect(
    client.post('/store-apps/a/checks', { readData: true }, { 'Idempotency-Key': 'k1' }),
  ).resolves.toEqual({
    id: 't',
  });
  expect(requests.map((r) => [r.method, r.key, r.body])).toEqual([
    ['POST', 'k1', '{"readData":true}'],
    ['POST', 'k1', '{"readData":true}'],
    ['POST', 'k1', '{"readData":true}'],
  ]);

  requests.length = 0;
  script = busyThen(1, { id: 'a' });
  const refused = await client.post('/store-apps', { name: 'x' }).catch((err: unknown) => err);
  expect(refused).toBeInstanceOf(CliError);
  expect((refused as CliError).what).toBe('HTTP_503: Service Unavailable');
  expect(requests).toHaveLength(1);
});

test('list follows nextToken and stops at the limit; queries are RFC 3986 encoded', async () => {
  script = (req, _body, res) => {
    const url = new URL(req.url!, 'http://x');
    const start = Number(url.searchParams.get('nextToken') ?? 0);
    const limit = Number(url.searchParams.get('limit'));
    const items = Array.from({ length: limit }, (_, i) => start + i);
    res.writeHead(200).end(JSON.stringify({ items, nextToken: String(start + limit) }));
  };
  const seen: number[] = [];
  for await (const n of client.list<number>('/tasks', { state: 'a b' }, 130)) seen.push(n);
  expect(seen).toEqual(Array.from({ length: 130 }, (_, i) => i));
  expect(requests.map((r) => r.url)).toEqual([
    '/v1/tasks?state=a%20b&limit=100',
    '/v1/tasks?state=a%20b&limit=30&nextToken=100',
  ]);
});

test("the API's error is one line with its code; API Gateway's signature mismatch loses its canonical request", async () => {
  script = (_req, _body, res) =>
    res
      .writeHead(409)
      .end(JSON.stringify({ error: { code: 'STORE_BUSY', message: 'a restore holds the store' } }));
  await expect(client.get('/x')).rejects.toMatchObject({
    what: 'STORE_BUSY: a restore holds the store',
    code: 'STORE_BUSY',
  });

  script = (_req, _body, res) =>
    res.writeHead(403).end(
      JSON.stringify({
        message:
          "The request signature we calculated does not match the signature you provided. The Canonical String for this request should have been\n'GET\n/v1/x\n\nx-amz-security-token:SECRET-SESSION\n'",
      }),
    );
  const error = (await client.get('/x').catch((err: unknown) => err)) as CliError;
  expect(error.what).toBe(
    'HTTP_403: The request signature we calculated does not match the signature you provided.',
  );
  expect(error.todo).not.toContain('SECRET');

  script = (_req, _body, res) => res.writeHead(502).end('<html>bad gateway</html>');
  await expect(client.post('/x')).rejects.toMatchObject({ code: 'HTTP_502' });
});

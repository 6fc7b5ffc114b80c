/** The local adapter's edges: the token it insists on, and paths it cannot decode. */
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { API_FUNCTIONS } from '../../layers/control/api/routes.js';
import { apiGatewayAdapter, type ProxyHandler, tokenMatches } from '../../local/api-gateway-adapter.js';
import { localToken, TOKEN_LENGTH } from '../../local/local-token.js';
import { tempDir } from '../layers/kloset/fixtures.js';

const TOKEN = 't'.repeat(TOKEN_LENGTH);
const echo: ProxyHandler = async (event) => ({ statusCode: 200, body: JSON.stringify(event.pathParameters) });
let server: Server;
let url: string;

beforeAll(async () => {
  const handlers = Object.fromEntries(API_FUNCTIONS.map((fn) => [fn, echo])) as Record<
    (typeof API_FUNCTIONS)[number],
    ProxyHandler
  >;
  server = createServer(apiGatewayAdapter(handlers, TOKEN)).listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((done) => server.close(done)));

test('a path parameter that is not valid percent-encoding is a 400 in the API error shape', async () => {
  const answer = await fetch(`${url}/store-apps/%E0`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(answer.status).toBe(400);
  expect(await answer.json()).toEqual({
    error: { code: 'INVALID_INPUT', message: expect.stringContaining('percent-encoding') },
  });
  const decoded = await fetch(`${url}/store-apps/a%20b`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(await decoded.json()).toEqual({ appId: 'a b' });
});

test('an empty or missing token never matches, even an empty expected one', () => {
  expect(tokenMatches(undefined, '')).toBe(false);
  expect(tokenMatches('Bearer ', '')).toBe(false);
  expect(tokenMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
});

test('the adapter refuses to serve with a token shorter than a made one', () => {
  expect(() => apiGatewayAdapter({} as never, '')).toThrow(/shorter/);
  expect(() => apiGatewayAdapter({} as never, 'short')).toThrow(/shorter/);
});

test('an emptied or truncated token file is replaced by a new token, shown once', async () => {
  const file = join(await tempDir('kloud-token-'), 'token');
  const first = await localToken(file);
  expect(first).toMatchObject({ created: true });
  expect(first.token).toHaveLength(TOKEN_LENGTH);
  expect(await localToken(file)).toEqual({ token: first.token, created: false });
  for (const stored of ['', '\n', 'abc\n']) {
    await writeFile(file, stored);
    const made = await localToken(file);
    expect(made.created).toBe(true);
    expect(made.token).toHaveLength(TOKEN_LENGTH);
  }
});

/**
 * `kloud remote` signs its requests with AWS Signature Version 4 the way API Gateway checks them.
 * The check here is computed independently of the CLI's signer (node:crypto's HMAC chain, written
 * below from the SigV4 specification), proven first on AWS's published `get-vanilla` test vector,
 * then applied by a server on loopback to every request the real CLI sends it.
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Sandbox } from './sandbox.js';

const ACCESS_KEY = 'AKIDEXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SESSION_TOKEN = 'session-token-for-the-test';
const REGION = 'eu-west-1';
const APP_ID = '0f6e2c4a-1b3d-4e5f-8a9b-0c1d2e3f4a5b';

interface Signable {
  method: string;
  /** the path and query as sent on the request line */
  target: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const rfc3986 = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The signature SigV4 gives the request, from its own Authorization header's scope and signed headers. */
function expectedSignature(req: Signable, secretKey: string): { signature: string; given: string } {
  const authorization = String(req.headers.authorization);
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (!match) throw new Error(`not a SigV4 Authorization header: ${authorization}`);
  const [, , date, region, service, signedHeaders, given] = match;
  const [rawPath, rawQuery = ''] = req.target.split('?');
  // every service but S3 encodes the (already encoded) path segments once more
  const canonicalUri = rawPath!.split('/').map(rfc3986).join('/');
  const canonicalQuery = rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => pair.split('=').map((part) => rfc3986(decodeURIComponent(part ?? ''))) as [string, string])
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([key, value]) => `${key}=${value ?? ''}`)
    .join('&');
  const names = signedHeaders!.split(';');
  const canonicalHeaders = names
    .map((name) => `${name}:${String(req.headers[name]).trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [
    req.method,
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    sha256(req.body),
  ].join('\n');
  const amzDate = String(req.headers['x-amz-date']);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretKey}`, date!), region!), service!), 'aws4_request');
  return { signature: createHmac('sha256', key).update(stringToSign).digest('hex'), given: given! };
}

test("the independent check gives the signature of AWS's published get-vanilla test vector", () => {
  // aws-sig-v4-test-suite/get-vanilla: GET / on example.amazonaws.com, service "service", us-east-1
  const { signature, given } = expectedSignature(
    {
      method: 'GET',
      target: '/',
      headers: {
        host: 'example.amazonaws.com',
        'x-amz-date': '20150830T123600Z',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
      },
      body: '',
    },
    SECRET_KEY,
  );
  expect(signature).toBe('5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
  expect(given).toBe(signature);
});

describe('requests of the CLI', () => {
  let sandbox: Sandbox;
  let server: Server;
  let url = '';
  const seen: { signable: Signable; valid: boolean }[] = [];

  beforeAll(async () => {
    sandbox = await Sandbox.create();
    server = createServer((req, res) => void answer(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await sandbox.dispose();
  });

  /** Checks the signature; answers like API Gateway (403) when it is wrong, else like the API. */
  async function answer(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const signable = { method: req.method!, target: req.url!, headers: req.headers, body };
    let valid = false;
    try {
      const { signature, given } = expectedSignature(signable, SECRET_KEY);
      valid = signature === given;
    } catch {
      valid = false;
    }
    seen.push({ signable, valid });
    res.setHeader('content-type', 'application/json');
    if (!valid) {
      res
        .writeHead(403)
        .end(JSON.stringify({ message: 'The request signature we calculated does not match' }));
    } else if (req.method === 'POST') {
      res.writeHead(201).end(JSON.stringify({ id: APP_ID, name: 'main', location: '/srv/x' }));
    } else {
      res.writeHead(200).end(JSON.stringify({ items: [] }));
    }
  }

  const env = {
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_SESSION_TOKEN: SESSION_TOKEN,
    AWS_EC2_METADATA_DISABLED: 'true',
  };

  test('a GET, a POST with a body and a query with spaces and slashes are signed as API Gateway checks', async () => {
    await sandbox.ok(['remote', '--url', url, '--region', REGION, 'apps', 'list'], { env });
    await sandbox.ok(
      [
        'remote',
        '--url',
        url,
        '--aws',
        '--region',
        REGION,
        'apps',
        'create',
        'main',
        '--resource',
        'directory:backups',
      ],
      { env: { ...env, KLOUD_PASSPHRASE: 'a passphrase for the test' } },
    );
    await sandbox.ok(
      ['remote', '--url', url, '--region', REGION, 'ls', APP_ID, 'latest', "/home/me/my docs/it's (1)"],
      {
        env,
      },
    );
    expect(seen.map((s) => [s.signable.method, s.signable.target.split('?')[0], s.valid])).toEqual([
      ['GET', '/v1/store-apps', true],
      ['POST', '/v1/store-apps', true],
      ['GET', `/v1/store-apps/${APP_ID}/snapshots/latest/entries`, true],
    ]);
    const ls = seen[2]!.signable;
    expect(ls.target).toContain('path=%2Fhome%2Fme%2Fmy%20docs%2Fit%27s%20%281%29');
    for (const { signable } of seen) {
      const authorization = String(signable.headers.authorization);
      expect(authorization).toMatch(
        new RegExp(
          `^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/\\d{8}/${REGION}/execute-api/aws4_request, SignedHeaders=[^,]*host[^,]*x-amz-security-token`,
        ),
      );
      expect(signable.headers['x-amz-security-token']).toBe(SESSION_TOKEN);
      const signedAt = String(signable.headers['x-amz-date']);
      const iso = `${signedAt.slice(0, 4)}-${signedAt.slice(4, 6)}-${signedAt.slice(6, 11)}:${signedAt.slice(11, 13)}:${signedAt.slice(13)}`;
      expect(Math.abs(Date.parse(iso) - Date.now())).toBeLessThan(5 * 60_000);
    }
    expect(JSON.parse(seen[1]!.signable.body)).toMatchObject({
      name: 'main',
      passphrase: 'a passphrase for the test',
    });
  });

  test('a request signed with another secret is refused, and the CLI says so in one line', async () => {
    seen.length = 0;
    const run = await sandbox.run(['remote', '--url', url, '--region', REGION, 'apps', 'list'], {
      env: { ...env, AWS_SECRET_ACCESS_KEY: 'another-secret-key-never-shown' },
    });
    expect(seen.map((s) => s.valid)).toEqual([false]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: HTTP_403: The request signature we calculated does not match — check that your AWS identity/,
    );
    expect(run.stderr).not.toContain('another-secret-key-never-shown');
    expect(run.stderr).not.toContain(SESSION_TOKEN);
  });
});

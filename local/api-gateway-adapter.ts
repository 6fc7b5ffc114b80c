/**
 * Local mode's API Gateway: a node:http listener that checks the bearer token, matches the
 * request against the shared route table and hands the very handlers the REST proxy event and
 * Lambda context API Gateway and Lambda would.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type ApiFunction, ROUTES } from '../layers/control/api/routes.js';
import { lambdaContext } from './lambda-context.js';
import { TOKEN_LENGTH } from './local-token.js';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** API Gateway's integration timeout, which the API functions are given */
const API_TIMEOUT_MS = 30_000;

/** Larger bodies are refused before reaching a handler (API Gateway's own limit is 10 MB). */
const MAX_READ_BYTES = 1024 * 1024;

interface Match {
  readonly resource: string;
  readonly fn: ApiFunction;
  readonly pathParameters: Record<string, string>;
}

const COMPILED = ROUTES.map((route) => {
  const names: string[] = [];
  const pattern = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, names, regex: new RegExp(`^${pattern}/?$`) };
});

/**
 * The route for `method` and `path`; 'method' when the path exists with other methods only;
 * 'encoding' when a path parameter is not valid percent-encoding.
 */
export function matchRoute(method: string, path: string): Match | 'method' | 'encoding' | undefined {
  let pathKnown = false;
  for (const { route, names, regex } of COMPILED) {
    const m = regex.exec(path);
    if (!m) continue;
    pathKnown = true;
    if (route.method !== method) continue;
    const pathParameters: Record<string, string> = {};
    try {
      names.forEach((name, i) => (pathParameters[name] = decodeURIComponent(m[i + 1]!)));
    } catch {
      return 'encoding';
    }
    return { resource: route.path, fn: route.fn, pathParameters };
  }
  return pathKnown ? 'method' : undefined;
}

function send(res: ServerResponse, result: APIGatewayProxyResult): void {
  res.writeHead(result.statusCode, {
    'content-type': 'application/json',
    ...(result.headers as Record<string, string>),
  });
  res.end(result.body);
}

const refusal = (status: number, code: string, message: string): APIGatewayProxyResult => ({
  statusCode: status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ error: { code, message } }),
});

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_READ_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length > 0 && given.length === expected.length && timingSafeEqual(given, expected);
}

function proxyEvent(req: IncomingMessage, url: URL, match: Match, body: string): APIGatewayProxyEvent {
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
  );
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    (multiQuery[k] ??= []).push(v);
  }
  const hasQuery = Object.keys(query).length > 0;
  const hasParams = Object.keys(match.pathParameters).length > 0;
  const requestId = randomUUID();
  return {
    resource: match.resource,
    path: url.pathname,
    httpMethod: req.method!,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: hasParams ? match.pathParameters : null,
    stageVariables: null,
    body: body === '' ? null : body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      domainName: headers.host ?? '127.0.0.1',
      httpMethod: req.method!,
      path: url.pathname,
      protocol: `HTTP/${req.httpVersion}`,
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: match.resource,
      stage: 'local',
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: 'local',
        userAgent: headers['user-agent'] ?? null,
        userArn: null,
      },
    },
  };
}

/** The request listener: token, route, event, handler, answer. */
export function apiGatewayAdapter(handlers: Record<ApiFunction, ProxyHandler>, token: string) {
  if (token.length < TOKEN_LENGTH)
    throw new Error(
      `the local token is shorter than ${TOKEN_LENGTH} characters: it would not protect the API`,
    );
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      if (!tokenMatches(req.headers.authorization, token))
        return send(
          res,
          refusal(
            401,
            'UNAUTHORIZED',
            'missing or wrong bearer token: send "Authorization: Bearer TOKEN" (npm start printed it)',
          ),
        );
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const match = matchRoute(req.method ?? 'GET', url.pathname);
      if (match === undefined)
        return send(res, refusal(404, 'NO_ROUTE', `no route ${url.pathname}: see docs/API.md`));
      if (match === 'encoding')
        return send(
          res,
          refusal(400, 'INVALID_INPUT', `${url.pathname} is not valid percent-encoding (RFC 3986, UTF-8)`),
        );
      if (match === 'method')
        return send(
          res,
          refusal(
            405,
            'METHOD_NOT_ALLOWED',
            `${req.method} is not a method of ${url.pathname}: see docs/API.md`,
          ),
        );
      const body = await readBody(req);
      if (body === undefined)
        return send(
          res,
          refusal(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than ${MAX_READ_BYTES} bytes`),
        );
      const event = proxyEvent(req, url, match, body);
      send(
        res,
        await handlers[match.fn](
          event,
          lambdaContext(match.fn, event.requestContext.requestId, API_TIMEOUT_MS),
        ),
      );
    } catch {
      send(res, refusal(500, 'INTERNAL', 'the local API adapter failed: see its output'));
    }
  };
}

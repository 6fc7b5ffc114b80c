/**
 * The control plane's REST API as `kloud remote` calls it: JSON in and out, every request
 * authorized (request-signing.ts), answers of `{error: {code, message}}` turned into one CLI error
 * line with the code, and a control plane that cannot be reached said as such (exit code 8).
 * Reads, and writes carrying an Idempotency-Key, are tried again on a dropped connection or a
 * busy service: repeating them changes nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, EXIT } from '../failures/errors.js';
import type { Connection } from './connection.js';
import { requestSigner, type RequestSigner } from './request-signing.js';

/** API Gateway gives up after 29 s; a little more covers the way there and back. */
const REQUEST_TIMEOUT_MS = 35_000;
const ATTEMPTS = 3;
const RETRY_PAUSE_MS = 500;
/** Statuses that mean "not now" rather than "no". */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

export type Query = Record<string, string | number | boolean | undefined>;

export interface CallOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A page of a list, as every list route answers. */
export interface Page<T> {
  items: T[];
  nextToken?: string;
}

export class ApiClient {
  private readonly sign: RequestSigner;

  constructor(readonly connection: Connection) {
    this.sign = requestSigner(connection.authorization);
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.call<T>('GET', path, { query });
  }

  post<T>(path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    return this.call<T>('POST', path, { body, headers });
  }

  /** Every item of a list, page after page, up to `limit` items when given. */
  async *list<T>(path: string, query: Query = {}, limit?: number): AsyncGenerator<T> {
    let nextToken: string | undefined;
    let count = 0;
    do {
      const pageSize = limit === undefined ? 100 : Math.min(100, limit - count);
      const page = await this.get<Page<T>>(path, { ...query, limit: pageSize, nextToken });
      for (const item of page.items) {
        yield item;
        if (++count === limit) return;
      }
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
  }

  async call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const url = this.urlOf(path, options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers = {
      accept: 'application/json',
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...options.headers,
    };
    const repeatable = method === 'GET' || 'Idempotency-Key' in headers;
    for (let attempt = 1; ; attempt++) {
      const last = !repeatable || attempt === ATTEMPTS;
      let response: Response;
      try {
        // signed again each time: a signature is valid for a few minutes only
        const signed = await this.sign({ method, url, headers, body });
        response = await fetch(url, {
          method,
          headers: signed,
          body,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (err) {
        if (err instanceof CliError) throw err;
        if (last) throw this.unreachable(err);
        await sleep(RETRY_PAUSE_MS * attempt);
        continue;
      }
      if (RETRYABLE_STATUS.has(response.status) && !last) {
        await response.body?.cancel();
        await sleep(RETRY_PAUSE_MS * attempt);
        continue;
      }
      return this.answer<T>(response, method, url);
    }
  }

  /** The base URL's path (API Gateway's stage, `/v1`) followed by the route's. */
  private urlOf(path: string, query: Query = {}): URL {
    const url = new URL(this.connection.url);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    url.search = queryString(query);
    return url;
  }

  private async answer<T>(response: Response, method: string, url: URL): Promise<T> {
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new CliError(
        `${method} ${url.pathname}: ${url.origin} answered HTTP ${response.status} with something that is not JSON`,
        "check the URL: it should be the base URL of the kloud control plane (the ApiUrl output, or local mode's url)",
        EXIT.failure,
        { code: `HTTP_${response.status}` },
      );
    }
    if (response.ok) return body as T;
    throw apiError(response.status, body, url);
  }

  private unreachable(err: unknown): CliError {
    const { origin } = this.connection.url;
    return new CliError(
      `cannot reach the kloud API at ${origin}: ${networkReason(err)}`,
      'check the URL (--url, --remote, KLOUD_URL) and that the control plane is running',
      EXIT.unreachable,
      { cause: err, code: 'UNREACHABLE' },
    );
  }
}

/**
 * RFC 3986 encoding (a space is %20, never `+`): the form SigV4 canonicalizes, so that the
 * query signed and the query sent are the same bytes.
 */
function queryString(query: Query): string {
  const encode = (text: string) =>
    encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return Object.entries(query)
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
    .map(([key, value]) => `${encode(key)}=${encode(String(value))}`)
    .join('&');
}

const ADVICE: Record<number, string> = {
  400: "see the command's --help",
  401: 'check the token (--token, KLOUD_TOKEN or the remote\'s): local mode keeps it in its data directory\'s "token" file',
  403: "check that your AWS identity may call the API (execute-api:Invoke on the stack's ApiInvokeArn) and that --region is the API's",
  404: 'check the names and IDs (kloud remote apps list, kloud remote tasks)',
  409: 'see the message: wait for the other task, or make the app ready (kloud remote apps test APP)',
  422: 'see the message: the request is well-formed but cannot be done as asked',
  429: 'too many requests: try again in a moment',
};

/**
 * The API's `{error: {code, message}}`; API Gateway's own refusals (`{message}`: a bad signature,
 * a missing token) get a code from their status. Only the first line of a message is kept: API
 * Gateway's signature mismatch goes on with the canonical request, which holds the session token.
 */
function apiError(status: number, body: unknown, url: URL): CliError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const gatewayMessage = (body as { message?: unknown } | undefined)?.message;
  const code = typeof error?.code === 'string' ? error.code : `HTTP_${status}`;
  const raw =
    typeof error?.message === 'string'
      ? error.message
      : typeof gatewayMessage === 'string'
        ? gatewayMessage
        : `HTTP ${status} from ${url.pathname}`;
  const message = raw.split('\n')[0]!.split(' The Canonical String')[0]!;
  const advice =
    ADVICE[status] ??
    (status >= 500
      ? 'a fault of the control plane: try again later, or look in its logs'
      : "see the command's --help");
  return new CliError(`${code}: ${message}`, advice, EXIT.failure, { code });
}

/** What went wrong on the way, in a few words (never a header, so never a secret). */
function networkReason(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  }
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'unknown host',
    EAI_AGAIN: 'the host name could not be resolved now',
    ECONNRESET: 'the connection was dropped',
    ETIMEDOUT: 'the connection timed out',
    EHOSTUNREACH: 'no route to the host',
    UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
    UND_ERR_SOCKET: 'the connection was dropped',
  };
  if (cause?.code && reasons[cause.code]) return reasons[cause.code]!;
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}

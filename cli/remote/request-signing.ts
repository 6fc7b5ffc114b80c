/**
 * How a request to the control plane proves its caller: a bearer token (local mode), or AWS
 * Signature Version 4 for API Gateway's IAM authorization (service `execute-api`), with the
 * credentials of the AWS SDK's default chain (environment, profile, SSO, web identity, instance
 * or task role). The AWS packages load only when a request is signed: they cost start-up time.
 */
import { CliError } from '../failures/errors.js';
import type { Authorization } from './connection.js';

export interface OutgoingRequest {
  method: string;
  /** with its final query string: what is signed is what is sent */
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** The headers to send: the request's own plus what authorizes it. */
export type RequestSigner = (request: OutgoingRequest) => Promise<Record<string, string>>;

export function requestSigner(authorization: Authorization): RequestSigner {
  if (authorization.kind === 'token') {
    const header = `Bearer ${authorization.token}`;
    return async (request) => ({ ...request.headers, authorization: header });
  }
  let signer: Promise<RequestSigner> | undefined;
  return async (request) => {
    signer ??= sigV4Signer(authorization.region, authorization.profile);
    return (await signer)(request);
  };
}

async function sigV4Signer(region: string, profile: string | undefined): Promise<RequestSigner> {
  const [{ SignatureV4 }, { Sha256 }, { defaultProvider }] = await Promise.all([
    import('@smithy/signature-v4'),
    import('@aws-crypto/sha256-js'),
    import('@aws-sdk/credential-provider-node'),
  ]);
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    sha256: Sha256,
    credentials: defaultProvider(profile === undefined ? {} : { profile }),
  });
  return async ({ method, url, headers, body }) => {
    let signed;
    try {
      signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port !== '' && { port: Number(url.port) }),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        // host is signed; fetch sends the same value itself
        headers: { ...headers, host: url.host },
        body,
      });
    } catch (err) {
      throw noCredentials(url, profile, err);
    }
    return Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name !== 'host'));
  };
}

function noCredentials(url: URL, profile: string | undefined, err: unknown): CliError {
  const source = profile === undefined ? "the AWS SDK's default chain" : `the AWS profile "${profile}"`;
  return new CliError(
    `no AWS credentials from ${source} to sign requests to ${url.origin} (no token was given, so requests are signed with SigV4)`,
    'set AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a role), or give a token for local mode (--token, KLOUD_TOKEN)',
    undefined,
    { cause: err, code: 'NO_CREDENTIALS' },
  );
}

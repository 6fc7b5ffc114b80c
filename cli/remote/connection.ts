/**
 * Which control plane `kloud remote` calls and how it proves who it is. First found wins:
 *
 *   URL:          --url, else the --remote's, else $KLOUD_URL
 *   credentials:  --token or --aws, else the --remote's, else $KLOUD_TOKEN, else SigV4
 *   SigV4 region: --region, else the --remote's, else the URL's host (…execute-api.REGION.amazonaws.com),
 *                 else $AWS_REGION / $AWS_DEFAULT_REGION
 *   AWS profile:  --profile, else the --remote's, else the default credential chain's
 */
import { usageError } from '../failures/errors.js';
import type { Remote } from './remotes.js';

/** The connection options of `kloud remote` (and what `kloud remote add` saves). */
export interface ConnectionFlags {
  remote?: string;
  url?: string;
  token?: string;
  aws?: boolean;
  region?: string;
  profile?: string;
}

export type Authorization =
  { kind: 'token'; token: string } | { kind: 'aws'; region: string; profile?: string };

export interface Connection {
  url: URL;
  authorization: Authorization;
}

const API_GATEWAY_HOST = /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/;

export function parseApiUrl(text: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    throw usageError(
      `bad API URL "${text}"`,
      'give the base URL of the control plane, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/v1 or http://127.0.0.1:4710',
    );
  }
  return url;
}

export function checkFlags(flags: ConnectionFlags): void {
  if (flags.url !== undefined && flags.remote !== undefined) {
    throw usageError('--url and --remote both name the control plane', 'give one of them');
  }
  if (flags.token !== undefined && flags.aws) {
    throw usageError('--token and --aws are two ways to authorize', 'give one of them');
  }
  if (flags.token !== undefined && (flags.region !== undefined || flags.profile !== undefined)) {
    throw usageError('--region and --profile go with SigV4 (--aws), not with --token', 'drop them');
  }
}

export function resolveConnection(
  flags: ConnectionFlags,
  remote: Remote | undefined,
  env: NodeJS.ProcessEnv,
): Connection {
  const urlText = flags.url ?? remote?.url ?? env.KLOUD_URL;
  if (!urlText) {
    throw usageError(
      'no control plane to call',
      'give --url URL or --remote NAME (kloud remote add NAME URL), or set KLOUD_URL',
    );
  }
  const url = parseApiUrl(urlText);
  // a named remote says how to authorize (its token, or SigV4): $KLOUD_TOKEN is for --url and $KLOUD_URL
  const token = flags.aws
    ? undefined
    : (flags.token ?? (remote ? remote.token : env.KLOUD_TOKEN || undefined));
  if (token !== undefined) return { url, authorization: { kind: 'token', token } };
  const region =
    flags.region ??
    remote?.region ??
    API_GATEWAY_HOST.exec(url.hostname)?.[1] ??
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION;
  if (!region) {
    throw usageError(
      `no AWS region to sign requests to ${url.origin} with`,
      'give --region REGION (or set AWS_REGION), or a token for local mode (--token, KLOUD_TOKEN)',
    );
  }
  const profile = flags.profile ?? remote?.profile;
  return { url, authorization: { kind: 'aws', region, ...(profile !== undefined && { profile }) } };
}

/**
 * Where a store app points: its resource resolved to a target when the app is added, its
 * configuration and credentials checked against its protocol, and both turned into what the
 * engine needs (a ConnectorTarget), refusing S3 locations outside the deployment's store buckets.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ConnectorTarget } from '../engine/connector-target.js';
import { NotFound, Unprocessable } from '../errors.js';
import type { Protocol } from '../integrations/integration-catalog.js';
import { parseResourceId } from '../inventories/resource.js';
import type { SftpServers } from '../inventories/sftp-servers.js';
import type { Settings } from '../runtime/settings.js';
import { parseInput } from '../validation.js';
import { FsConfiguration, fsTarget } from './protocols/fs-protocol.js';
import {
  checkAllowed,
  S3CompatibleConfiguration,
  S3Configuration,
  S3Credentials,
  s3Target,
} from './protocols/s3-protocol.js';
import { SftpConfiguration, SftpCredentials, sftpTarget } from './protocols/sftp-protocol.js';
import type { AppSecret, AppTarget, StoreAppRecord } from './store-app.js';

const SCHEMAS: Record<
  Protocol,
  { configuration: z.ZodType; credentials?: z.ZodType; credentialsRequired?: boolean }
> = {
  fs: { configuration: FsConfiguration },
  s3: { configuration: S3Configuration, credentials: S3Credentials },
  // the function role's credentials are for AWS only, never for a caller-chosen endpoint
  's3-compatible': {
    configuration: S3CompatibleConfiguration,
    credentials: S3Credentials,
    credentialsRequired: true,
  },
  sftp: { configuration: SftpConfiguration, credentials: SftpCredentials },
};

const unprocessable = (m: string) => new Unprocessable(m, 'INVALID_CONFIGURATION');

export function checkConfiguration(protocol: Protocol, configuration: unknown): Record<string, unknown> {
  return parseInput(SCHEMAS[protocol].configuration, configuration, 'configuration', unprocessable) as Record<
    string,
    unknown
  >;
}

/** `credentials` absent (undefined) or removed (null) is refused where the protocol requires them. */
export function checkCredentials(
  protocol: Protocol,
  credentials: unknown,
): Record<string, unknown> | undefined {
  if (credentials === undefined || credentials === null) {
    if (SCHEMAS[protocol].credentialsRequired)
      throw unprocessable(`credentials: required by the ${protocol} protocol`);
    return undefined;
  }
  const schema = SCHEMAS[protocol].credentials;
  if (!schema) throw unprocessable(`credentials: the ${protocol} protocol takes none`);
  return parseInput(schema, credentials, 'credentials', unprocessable) as Record<string, unknown>;
}

export async function resolveTarget(
  resourceId: string,
  settings: Settings,
  sftpServers: SftpServers,
): Promise<AppTarget> {
  const { subClass, name } = parseResourceId(resourceId);
  switch (subClass) {
    case 's3-bucket':
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name))
        throw new Unprocessable(`"${name}" is not a valid bucket name`, 'INVALID_RESOURCE');
      return { kind: 's3', bucket: name };
    case 'sftp-server': {
      const { id, host, port, user, hostKey } = await sftpServers.get(name);
      return { kind: 'sftp', serverId: id, host, port, user, hostKey };
    }
    case 'directory': {
      const missing = new NotFound(
        `no directory resource "${name}": see GET /inventories/directories/resources`,
      );
      if (!settings.localRoot || name.includes('/') || name === '.' || name === '..') throw missing;
      const directory = join(settings.localRoot, name);
      const info = await stat(directory).catch(() => undefined);
      if (!info?.isDirectory()) throw missing;
      return { kind: 'fs', directory };
    }
  }
}

/**
 * What the engine needs for `app`; refuses an `s3` location outside the store buckets (a foreign
 * service's bucket names are not the deployment's AWS buckets) and, given the secret, an
 * `s3-compatible` app without credentials (never the function role's to a foreign endpoint).
 */
export function connectorTarget(
  app: Pick<StoreAppRecord, 'target' | 'protocol' | 'configuration'>,
  secret: AppSecret | undefined,
  settings: Settings,
): ConnectorTarget {
  const { target } = app;
  const credentials = secret?.credentials;
  switch (target.kind) {
    case 's3': {
      const config = app.configuration as z.infer<typeof S3CompatibleConfiguration>;
      if (secret && app.protocol === 's3-compatible' && !credentials)
        throw unprocessable('credentials: required by the s3-compatible protocol: give them with PATCH');
      const made = s3Target(target.bucket, config, credentials as z.infer<typeof S3Credentials> | undefined);
      if (app.protocol === 's3') checkAllowed(made.location, settings.storeBuckets);
      return made;
    }
    case 'sftp':
      return sftpTarget(
        target,
        app.configuration as z.infer<typeof SftpConfiguration>,
        credentials as z.infer<typeof SftpCredentials> | undefined,
      );
    case 'fs':
      return fsTarget(target.directory, app.configuration as z.infer<typeof FsConfiguration>);
  }
}

/** The `sftp` protocol: the registered server's host key becomes the only known_hosts line. */
import { z } from 'zod';
import type { ConnectorTarget } from '../../engine/connector-target.js';
import type { SftpServer } from '../../inventories/sftp-servers.js';
// the location grammar alone, imported directly: this function's bundle carries no engine
import { formatLocation } from '../../../kloset/core/location.js';

export const SftpConfiguration = z
  .strictObject({
    path: z
      .string()
      .max(1024)
      .regex(
        /^\/(~\/)?[^\s?#]*$/,
        'expected an absolute path (/srv/backups) or one below the login directory (/~/backups)',
      )
      .meta({ description: 'the store directory on the server' }),
  })
  .meta({ id: 'SftpConfiguration' });

export const SftpCredentials = z
  .strictObject({
    privateKey: z
      .string()
      .min(1)
      .max(16384)
      .optional()
      .meta({ description: 'OpenSSH private key (PEM text)' }),
    privateKeyPassphrase: z.string().min(1).max(1024).optional(),
    password: z.string().min(1).max(1024).optional(),
  })
  .refine((c) => c.privateKey !== undefined || c.password !== undefined, 'give privateKey or password')
  .meta({ id: 'SftpCredentials' });

export function sftpTarget(
  server: Pick<SftpServer, 'host' | 'port' | 'user' | 'hostKey'>,
  config: z.infer<typeof SftpConfiguration>,
  credentials: z.infer<typeof SftpCredentials> | undefined,
): ConnectorTarget {
  const location = formatLocation({
    scheme: 'sftp',
    host: server.host,
    ...(server.port !== 22 && { port: server.port }),
    user: server.user,
    path: config.path,
    options: {},
  });
  const knownHost = server.port === 22 ? server.host : `[${server.host}]:${server.port}`;
  const options: Record<string, string> = {};
  if (credentials?.password) options.password = credentials.password;
  if (credentials?.privateKeyPassphrase) options.identity_passphrase = credentials.privateKeyPassphrase;
  return {
    location,
    printable: location,
    options,
    files: {
      known_hosts: `${knownHost} ${server.hostKey}\n`,
      ...(credentials?.privateKey && { identity: credentials.privateKey }),
    },
  };
}

/** SFTP servers the user registers by hand (kloud cannot discover them), kept in the table. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Page, Table } from '../data/table.js';
import { NotFound } from '../errors.js';

export const RegisterSftpServerBody = z
  .strictObject({
    host: z
      .string()
      .min(1)
      .max(253)
      .regex(
        /^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$|^[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*$/,
        'expected a host name or IP address',
      )
      // stored bare: locations and known_hosts lines add the brackets IPv6 needs
      .transform((h) => h.replace(/^\[(.*)\]$/, '$1')),
    port: z.number().int().min(1).max(65535).default(22),
    user: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9._-]+$/, 'expected a user name'),
    hostKey: z
      .string()
      .max(16384)
      .regex(
        /^(\S+ )?(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|ssh-dss) [A-Za-z0-9+/]+={0,3}$/,
        'expected the server\'s public host key as "TYPE BASE64", or the "HOST TYPE BASE64" line ssh-keyscan -t ed25519 HOST prints',
      )
      // the host field of an ssh-keyscan line: the registered host is the one that counts
      .transform((k) => k.replace(/^\S+ (?=\S+ \S+$)/, ''))
      .meta({ description: "the server's public host key; connections to another key are refused" }),
  })
  .meta({ id: 'RegisterSftpServer' });

export const SftpServer = z
  .object({
    id: z.string(),
    host: z.string(),
    port: z.number(),
    user: z.string(),
    hostKey: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'SftpServer' });
export type SftpServer = z.infer<typeof SftpServer>;

const PARTITION = 'SFTP';
const key = (id: string) => ({ pk: `SFTP#${id}`, sk: 'SFTP' });

function fromItem(item: Record<string, unknown>): SftpServer {
  const { id, host, port, user, hostKey, createdAt } = item as SftpServer;
  return { id, host, port, user, hostKey, createdAt };
}

export class SftpServers {
  constructor(private readonly table: Table) {}

  async register(input: z.infer<typeof RegisterSftpServerBody>): Promise<SftpServer> {
    const server: SftpServer = {
      id: randomUUID(),
      ...input,
      createdAt: new Date().toISOString(),
    };
    await this.table.putNew({
      ...key(server.id),
      gsi1pk: PARTITION,
      gsi1sk: `${server.createdAt}#${server.id}`,
      ...server,
    });
    return server;
  }

  async get(id: string): Promise<SftpServer> {
    const item = await this.table.get(key(id).pk, key(id).sk);
    if (!item) throw new NotFound(`no registered SFTP server ${id}: see GET /sftp-servers`);
    return fromItem(item);
  }

  async list(limit: number, nextToken?: string): Promise<Page<SftpServer>> {
    const page = await this.table.queryGsi1(PARTITION, limit, nextToken);
    return { ...page, items: page.items.map(fromItem) };
  }

  /** Forgetting a server leaves its store apps working: each holds its own copy of the address. */
  async forget(id: string): Promise<void> {
    if (!(await this.table.delete(key(id).pk, key(id).sk)))
      throw new NotFound(`no registered SFTP server ${id}: see GET /sftp-servers`);
  }
}

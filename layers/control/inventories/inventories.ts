/**
 * The inventories: the places the control plane can see. S3 buckets (the account's, or the local
 * S3 service's in local mode, plus the deployment's store buckets), registered SFTP servers, and
 * in local mode the directories under its root.
 */
import { readdir } from 'node:fs/promises';
import { GetBucketLocationCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { pageOfArray } from '../data/array-page.js';
import type { Page } from '../data/table.js';
import { NotFound } from '../errors.js';
import { logger } from '../runtime/observability.js';
import type { Settings } from '../runtime/settings.js';
import { describeResource, type Resource } from './resource.js';
import type { SftpServers } from './sftp-servers.js';

export const Inventory = z
  .object({
    id: z.enum(['s3', 'sftp', 'directories']),
    name: z.string(),
    subClasses: z.array(z.string()),
  })
  .meta({ id: 'Inventory' });
export type Inventory = z.infer<typeof Inventory>;

export const InventoryPath = z.strictObject({ inventoryId: z.string().max(64) });

export class Inventories {
  constructor(
    private readonly settings: Settings,
    private readonly sftpServers: SftpServers,
    private readonly s3: S3Client,
  ) {}

  list(): Inventory[] {
    const { localRoot, localS3Endpoint, storeBuckets, secretsFile } = this.settings;
    const local = secretsFile !== undefined;
    return [
      // local mode always runs an S3 service (the staging bucket); its buckets are stores only when asked for
      ...(!local || (localS3Endpoint && storeBuckets.length > 0)
        ? [
            {
              id: 's3' as const,
              name: local ? 'Local S3 service' : 'S3 buckets of this account',
              subClasses: ['s3-bucket'],
            },
          ]
        : []),
      { id: 'sftp' as const, name: 'Registered SFTP servers', subClasses: ['sftp-server'] },
      ...(localRoot
        ? [{ id: 'directories' as const, name: `Directories under ${localRoot}`, subClasses: ['directory'] }]
        : []),
    ];
  }

  async resources(inventoryId: string, limit: number, nextToken?: string): Promise<Page<Resource>> {
    const inventory = this.list().find((i) => i.id === inventoryId);
    if (!inventory)
      throw new NotFound(
        `no inventory "${inventoryId}": one of ${this.list()
          .map((i) => i.id)
          .join(', ')}`,
      );
    switch (inventory.id) {
      case 's3': {
        const page = pageOfArray(await this.bucketNames(), (b) => b, limit, nextToken);
        const items = await Promise.all(
          page.items.map(async (b) =>
            describeResource('s3-bucket', b, 's3', { region: await this.region(b) }),
          ),
        );
        return { ...page, items };
      }
      case 'sftp': {
        const page = await this.sftpServers.list(limit, nextToken);
        const items = page.items.map((s) =>
          describeResource('sftp-server', s.id, 'sftp', { name: `${s.user}@${s.host}:${s.port}` }),
        );
        return { ...page, items };
      }
      case 'directories':
        return pageOfArray(
          (await this.directoryNames()).map((d) => describeResource('directory', d, 'directories')),
          (r) => r.name,
          limit,
          nextToken,
        );
    }
  }

  private async bucketNames(): Promise<string[]> {
    const named = this.settings.storeBuckets.map((b) => b.bucket);
    const staging = this.settings.stagingBucket;
    return [...new Set([...(await this.listedBuckets()), ...named])].filter((b) => b !== staging).sort();
  }

  /** The account's buckets; none when the role may not list them (the store buckets remain). */
  private async listedBuckets(): Promise<string[]> {
    const listed: string[] = [];
    let token: string | undefined;
    try {
      do {
        const out = await this.s3.send(new ListBucketsCommand({ ContinuationToken: token }));
        listed.push(...(out.Buckets ?? []).flatMap((b) => (b.Name ? [b.Name] : [])));
        token = out.ContinuationToken;
      } while (token);
    } catch (err) {
      if ((err as Error).name !== 'AccessDenied') throw err;
      logger.warn('ListBuckets denied: the S3 inventory shows the store buckets only');
    }
    return listed;
  }

  /** undefined when the caller may not ask (a store bucket of another account, say) */
  private async region(bucket: string): Promise<string | undefined> {
    try {
      const out = await this.s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
      return out.LocationConstraint || 'us-east-1';
    } catch {
      return undefined;
    }
  }

  private async directoryNames(): Promise<string[]> {
    const entries = await readdir(this.settings.localRoot!, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  }
}

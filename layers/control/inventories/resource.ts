/**
 * A resource is a place an inventory can see and a store app can point at. Its ID says its kind
 * and names it (`s3-bucket:NAME`, `sftp-server:SERVER_ID`, `directory:NAME`), so resolving one
 * needs no listing.
 */
import { z } from 'zod';

export const RESOURCE_KINDS = {
  's3-bucket': { class: 'storage', subClass: 's3-bucket' },
  'sftp-server': { class: 'storage', subClass: 'sftp-server' },
  directory: { class: 'storage', subClass: 'directory' },
} as const;
export type SubClass = keyof typeof RESOURCE_KINDS;

export const ResourceId = z
  .string()
  .max(300)
  .regex(
    /^(s3-bucket|sftp-server|directory):[^/\\\s][^\s]*$/,
    'expected s3-bucket:BUCKET, sftp-server:SERVER_ID or directory:NAME (see GET /inventories/{inventoryId}/resources)',
  )
  .meta({ description: 'a resource ID as an inventory lists it', example: 's3-bucket:my-backups' });

export const Resource = z
  .object({
    id: ResourceId,
    inventoryId: z.string(),
    class: z.literal('storage'),
    subClass: z.enum(['s3-bucket', 'sftp-server', 'directory']),
    name: z.string(),
    region: z.string().optional(),
  })
  .meta({ id: 'Resource' });
export type Resource = z.infer<typeof Resource>;

export function resourceId(subClass: SubClass, name: string): string {
  return `${subClass}:${name}`;
}

export function parseResourceId(id: string): { subClass: SubClass; name: string } {
  const at = id.indexOf(':');
  return { subClass: id.slice(0, at) as SubClass, name: id.slice(at + 1) };
}

/** `key` is the part of the ID after the kind; `name` defaults to it. */
export function describeResource(
  subClass: SubClass,
  key: string,
  inventoryId: string,
  extra: { name?: string; region?: string | undefined } = {},
): Resource {
  const { name = key, region } = extra;
  return {
    id: resourceId(subClass, key),
    inventoryId,
    ...RESOURCE_KINDS[subClass],
    name,
    ...(region && { region }),
  };
}

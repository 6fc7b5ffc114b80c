/**
 * The integrations kloud offers and which resources each can serve. Choosing one for a resource:
 * the only compatible one is taken; among several the caller names one; an integration with
 * several protocols needs the caller to pick a protocol.
 */
import { z } from 'zod';
import { Unprocessable } from '../errors.js';
import type { SubClass } from '../inventories/resource.js';

export const PROTOCOLS = ['fs', 's3', 's3-compatible', 'sftp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const Integration = z
  .object({
    id: z.string(),
    name: z.string(),
    compatibleWith: z.array(z.object({ class: z.literal('storage'), subClass: z.string() })),
    protocols: z.array(z.enum(PROTOCOLS)),
  })
  .meta({ id: 'Integration' });
export type Integration = z.infer<typeof Integration>;

export const INTEGRATIONS: readonly Integration[] = [
  {
    id: 'fs',
    name: 'Local directory',
    compatibleWith: [{ class: 'storage', subClass: 'directory' }],
    protocols: ['fs'],
  },
  {
    id: 's3',
    name: 'Amazon S3 and S3-compatible services',
    compatibleWith: [{ class: 'storage', subClass: 's3-bucket' }],
    protocols: ['s3', 's3-compatible'],
  },
  {
    id: 'sftp',
    name: 'SFTP server',
    compatibleWith: [{ class: 'storage', subClass: 'sftp-server' }],
    protocols: ['sftp'],
  },
];

export function compatibleIntegrations(subClass: SubClass): Integration[] {
  return INTEGRATIONS.filter((i) => i.compatibleWith.some((c) => c.subClass === subClass));
}

export interface Choice {
  readonly integration: string;
  readonly protocol: Protocol;
}

export function chooseIntegration(
  subClass: SubClass,
  wanted: { integration?: string | undefined; protocol?: string | undefined },
): Choice {
  const compatible = compatibleIntegrations(subClass);
  const names = compatible.map((i) => i.id).join(', ');
  let integration: Integration | undefined;
  if (wanted.integration !== undefined) {
    integration = compatible.find((i) => i.id === wanted.integration);
    if (!integration)
      throw new Unprocessable(
        `integration "${wanted.integration}" cannot serve a ${subClass}: use one of ${names}`,
        'INCOMPATIBLE_INTEGRATION',
      );
  } else if (compatible.length === 1) {
    integration = compatible[0]!;
  } else {
    throw new Unprocessable(
      `several integrations can serve a ${subClass}: name one of ${names}`,
      'CHOOSE_INTEGRATION',
    );
  }
  const protocols = integration.protocols.join(', ');
  if (wanted.protocol !== undefined) {
    const protocol = integration.protocols.find((p) => p === wanted.protocol);
    if (!protocol)
      throw new Unprocessable(
        `integration ${integration.id} has no protocol "${wanted.protocol}": use one of ${protocols}`,
        'UNKNOWN_PROTOCOL',
      );
    return { integration: integration.id, protocol };
  }
  if (integration.protocols.length > 1)
    throw new Unprocessable(
      `integration ${integration.id} has several protocols: pick one of ${protocols} ("protocol")`,
      'CHOOSE_PROTOCOL',
    );
  return { integration: integration.id, protocol: integration.protocols[0]! };
}

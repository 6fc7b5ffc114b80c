import type { Node } from 'constructs';
import { type StoreBucket, parseStoreBucket } from './store-buckets.js';
import type { KloudStackProps } from './kloud-stack.js';

/**
 * A list from context: `cdk.json` holds JSON arrays, `cdk deploy -c key=value` gives a string,
 * either a JSON array or comma-separated items.
 */
function listOf(value: unknown, key: string): string[] {
  if (value === undefined || value === '') return [];
  const list = typeof value === 'string' && !value.trim().startsWith('[') ? value.split(',') : value;
  const parsed = typeof list === 'string' ? (JSON.parse(list) as unknown) : list;
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    throw new Error(`context ${key} must be a list of strings`);
  }
  return parsed.map((item) => item.trim()).filter((item) => item !== '');
}

function numberOf(value: unknown, key: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`context ${key} must be a positive integer`);
  return n;
}

/** The stack's settings from the `kloud:*` context keys (see docs/DEPLOY.md). */
export function kloudStackPropsFromContext(node: Node): KloudStackProps {
  const storeBuckets: StoreBucket[] = listOf(
    node.tryGetContext('kloud:storeBuckets'),
    'kloud:storeBuckets',
  ).map(parseStoreBucket);
  const kmsKeyArn = node.tryGetContext('kloud:kmsKeyArn') as string | undefined;
  return {
    storeBuckets,
    apiCallers: listOf(node.tryGetContext('kloud:apiCallers'), 'kloud:apiCallers'),
    ...(kmsKeyArn && { kmsKeyArn }),
    functionMemory: numberOf(node.tryGetContext('kloud:functionMemory'), 'kloud:functionMemory'),
    workerMemory: numberOf(node.tryGetContext('kloud:workerMemory'), 'kloud:workerMemory'),
    reservedConcurrency: numberOf(
      node.tryGetContext('kloud:reservedConcurrency'),
      'kloud:reservedConcurrency',
    ),
    stagingExpiryDays: numberOf(node.tryGetContext('kloud:stagingExpiryDays'), 'kloud:stagingExpiryDays'),
  };
}

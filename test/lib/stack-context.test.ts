import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { App } from 'aws-cdk-lib';
import { kloudStackPropsFromContext } from '../../lib/stack-context.js';

/** An App without an outdir makes a cdk.out* folder in the temp dir that nothing removes. */
const outdir = mkdtempSync(join(tmpdir(), 'kloud-cdk-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const propsFrom = (context: Record<string, unknown>) =>
  kloudStackPropsFromContext(new App({ context, outdir }).node);

describe('kloudStackPropsFromContext', () => {
  test('reads the lists cdk.json holds as JSON arrays', () => {
    expect(
      propsFrom({
        'kloud:storeBuckets': ['backups/kloud', 's3://archive'],
        'kloud:apiCallers': ['arn:aws:iam::111122223333:role/ci'],
        'kloud:functionMemory': 2048,
        'kloud:workerMemory': 4096,
      }),
    ).toEqual({
      storeBuckets: [
        { bucket: 'backups', prefix: 'kloud/' },
        { bucket: 'archive', prefix: '' },
      ],
      apiCallers: ['arn:aws:iam::111122223333:role/ci'],
      functionMemory: 2048,
      workerMemory: 4096,
      reservedConcurrency: undefined,
      stagingExpiryDays: undefined,
    });
  });

  test('reads -c values given as strings: comma-separated or a JSON array', () => {
    const props = propsFrom({
      'kloud:storeBuckets': 'backups/a, backups/b',
      'kloud:apiCallers': '["arn:aws:iam::111122223333:role/ci"]',
      'kloud:reservedConcurrency': '5',
      'kloud:kmsKeyArn': 'arn:aws:kms:eu-west-1:111122223333:key/abc',
    });
    expect(props.storeBuckets).toEqual([
      { bucket: 'backups', prefix: 'a/' },
      { bucket: 'backups', prefix: 'b/' },
    ]);
    expect(props.apiCallers).toEqual(['arn:aws:iam::111122223333:role/ci']);
    expect(props.reservedConcurrency).toBe(5);
    expect(props.kmsKeyArn).toBe('arn:aws:kms:eu-west-1:111122223333:key/abc');
  });

  test('defaults to no store bucket and no named caller', () => {
    expect(propsFrom({})).toMatchObject({ storeBuckets: [], apiCallers: [] });
  });

  test('refuses a number that is not a positive integer', () => {
    expect(() => propsFrom({ 'kloud:functionMemory': 'lots' })).toThrow(
      'kloud:functionMemory must be a positive integer',
    );
  });
});

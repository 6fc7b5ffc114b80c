/** Names that are not UTF-8 against S3, whose keys are UTF-8 only. */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDestination, parseLocation } from '../../../../../layers/kloset/index.js';
import { writeByteTree } from '../../byte-trees.js';
import { newStore, tempDir } from '../../fixtures.js';
import { s3rverForTests } from './s3rver.js';

const BUCKET = 'kloud-names';
const s3 = s3rverForTests([BUCKET]);
const latin1 = (s: string) => Buffer.from(s, 'latin1');
const hex = (s: string) => latin1(s).toString('hex');

test('a restore into S3 reports each name that is not UTF-8 and restores the rest; link targets keep their bytes', async () => {
  const root = join(await tempDir(), 'src');
  mkdirSync(root);
  writeByteTree(
    Buffer.from(root),
    new Map([
      [hex('ok'), { file: latin1('ok') }],
      [hex('caf\xe9'), { file: latin1('x') }],
      [hex('d\xff'), { dir: new Map([[hex('a'), { file: latin1('a') }]]) }],
      [hex('link'), { symlink: latin1('t\xe9') }],
    ]),
  );
  const { store } = await newStore();
  const destination = await openDestination(parseLocation(`s3://${BUCKET}/out`, s3.server.options));
  try {
    const { snapshot } = await store.backup([root]);
    const restored = await store.restore(snapshot!.id, root, { destination });
    expect(restored).toMatchObject({ files: 1, symlinks: 1 });
    const failed = restored.errors.map((e) => e.path.slice(e.path.lastIndexOf('/') + 1)).sort();
    expect(failed).toEqual(['caf\udce9', 'd\udcff']);
    for (const e of restored.errors) expect(e.message).toMatch(/not UTF-8, and S3 keys are UTF-8/);
    const link = await s3.raw.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'out/src/link' }));
    expect(Buffer.from(await link.Body!.transformToByteArray())).toEqual(latin1('t\xe9'));
  } finally {
    await destination.close();
    await store.close();
  }
});

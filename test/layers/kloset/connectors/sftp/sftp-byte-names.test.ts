import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { SftpDestination } from '../../../../../layers/kloset/connectors/sftp/sftp-destination.js';
import { SftpSource } from '../../../../../layers/kloset/connectors/sftp/sftp-source.js';
import { byteDigest, byteTree, writeByteTree } from '../../byte-trees.js';
import { collect, newStore, tempDir } from '../../fixtures.js';
import { sshdForTests } from './sshd-for-tests.js';
import { parseLocation, type SftpLocation } from '../../../../../layers/kloset/core/location.js';

const sftpAt = (url: string, options: Record<string, string>) => parseLocation(url, options) as SftpLocation;

const sshd = sshdForTests();
const latin1 = (s: string) => Buffer.from(s, 'latin1');

describe('names over SFTP', () => {
  test('UTF-8 names of any kind go through an SFTP source and destination byte for byte', async () => {
    const { store } = await newStore();
    const work = await tempDir('kloud-sftp-names-');
    const source = new SftpSource(sftpAt(sshd.server.url, sshd.server.options));
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(byteTree(2, true), async (tree) => {
          const root = join(work, `src${run}`);
          const to = join(work, `to${run++}`);
          mkdirSync(root);
          writeByteTree(Buffer.from(root), tree);
          const { snapshot, errors } = await store.backup([root], { source });
          expect(errors).toEqual([]);
          const destination = new SftpDestination(sftpAt(`${sshd.server.url}${to}`, sshd.server.options));
          try {
            const restored = await store.restore(snapshot!.id, root, { destination });
            expect(restored.errors).toEqual([]);
          } finally {
            await destination.close();
          }
          const name = root.slice(root.lastIndexOf('/') + 1);
          expect(byteDigest(Buffer.from(join(to, name)))).toEqual(byteDigest(Buffer.from(root)));
        }),
        { numRuns: 8 },
      );
    } finally {
      await store.close();
      await source.close();
    }
  });

  test('an SFTP source reports each name and link target it cannot read as UTF-8, and backs up the rest', async () => {
    const root = join(await tempDir('kloud-sftp-names-'), 'src');
    const bytes = Buffer.from(root);
    const at = (...names: Buffer[]) => Buffer.concat([bytes, ...names.flatMap((n) => [latin1('/'), n])]);
    mkdirSync(root);
    writeFileSync(at(latin1('ok')), 'ok');
    writeFileSync(at(latin1('caf\xe9')), 'latin-1');
    writeFileSync(at(Buffer.from('caf\ufffd')), 'a real U+FFFD'); // listed under the same name
    mkdirSync(at(latin1('d\xff')));
    writeFileSync(at(latin1('d\xff'), latin1('below')), 'below');
    symlinkSync(latin1('to-\xfe'), at(latin1('bad-target')));
    const { store } = await newStore();
    const source = new SftpSource(sftpAt(sshd.server.url, sshd.server.options));
    try {
      const { snapshot, errors } = await store.backup([root], { source });
      expect(errors.map((e) => e.path).sort()).toEqual(
        [`${root}/bad-target`, `${root}/caf\ufffd`, `${root}/d\ufffd`].sort(),
      );
      for (const e of errors) expect(e.message).toMatch(/not UTF-8/);
      const names = (await store.ls(snapshot!.id, root)).map((e) => e.name).sort();
      expect(names).toEqual(['caf\ufffd', 'ok']);
      expect(await collect(store.cat(snapshot!.id, `${root}/caf\ufffd`))).toEqual(
        Buffer.from('a real U+FFFD'),
      );
    } finally {
      await store.close();
      await source.close();
    }
  });

  test('an SFTP destination reports each name and link target that is not UTF-8, and restores the rest', async () => {
    const root = join(await tempDir('kloud-sftp-names-'), 'src');
    mkdirSync(root);
    writeByteTree(
      Buffer.from(root),
      new Map([
        [latin1('ok').toString('hex'), { file: latin1('ok') }],
        [latin1('caf\xe9').toString('hex'), { file: latin1('x') }],
        [latin1('d\xff').toString('hex'), { dir: new Map([['61', { file: latin1('a') }]]) }],
        [latin1('link').toString('hex'), { symlink: latin1('t\xe9') }],
      ]),
    );
    const { store } = await newStore();
    const to = join(await tempDir('kloud-sftp-names-'), 'to');
    const destination = new SftpDestination(sftpAt(`${sshd.server.url}${to}`, sshd.server.options));
    try {
      const { snapshot } = await store.backup([root]);
      const restored = await store.restore(snapshot!.id, root, { destination });
      expect(restored.files).toBe(1);
      const failed = restored.errors.map((e) => e.path.slice(e.path.lastIndexOf('/') + 1)).sort();
      expect(failed).toEqual(['caf\udce9', 'd\udcff', 'link']);
      for (const e of restored.errors) expect(e.message).toMatch(/not UTF-8/);
    } finally {
      await store.close();
      await destination.close();
    }
  });
});

import { decodePartialTree } from '../../../../layers/kloset/backup/partial-tree.js';
import { failure } from '../fixtures.js';

const meta = { mode: 0o755, uid: 1, gid: 1, mtime: '0' };
const partial = (v: number, path: string) =>
  Buffer.from(
    JSON.stringify({
      v,
      items: [{ path, entry: { ...meta, name: 'a', type: 'file', size: 0, chunks: [] } }],
      dirs: [{ path: '/', meta }],
      counts: { files: 1, dirs: 0, symlinks: 0, bytes: 0, filesRead: 1, newBytes: 0, storedBytes: 0 },
      errors: [],
    }),
  );

describe('partial trees are decoded as every versioned document', () => {
  test('version 1 of UTF-8 paths and version 2 of any bytes decode', () => {
    expect(decodePartialTree(partial(1, '/a'), 'p').items[0]!.path).toBe('/a');
    expect(decodePartialTree(partial(2, '/caf\udce9'), 'p').items[0]!.path).toBe('/caf\udce9');
  });

  test('a newer version asks for an upgrade; bad JSON, version 0 and escaped bytes in version 1 are damage', () => {
    expect(failure(() => decodePartialTree(partial(4, '/a'), 'p')).code).toBe('UNSUPPORTED_VERSION');
    expect(failure(() => decodePartialTree(Buffer.from('{"v":1,'), 'p')).code).toBe('CORRUPT');
    expect(failure(() => decodePartialTree(partial(0, '/a'), 'p')).code).toBe('CORRUPT');
    expect(failure(() => decodePartialTree(partial(1, '/caf\udce9'), 'p')).message).toMatch(/not UTF-8/);
  });

  test('a path no bytes give is damage', () => {
    expect(failure(() => decodePartialTree(partial(2, '/\ud800'), 'p')).code).toBe('CORRUPT');
    expect(failure(() => decodePartialTree(partial(2, '/\udcc3\udca9'), 'p')).code).toBe('CORRUPT');
  });
});

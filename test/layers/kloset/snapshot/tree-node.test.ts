import {
  type TreeEntry,
  TREE_VERSION,
  compareNames,
  decodeNode,
  encodeNode,
} from '../../../../layers/kloset/core/tree-node.js';
import { KlosetError } from '../../../../layers/kloset/index.js';
import { failure } from '../fixtures.js';

const meta = { mode: 0o644, uid: 1, gid: 1, mtime: '0' };
const file = (name: string): TreeEntry => ({ ...meta, name, type: 'file', size: 0, chunks: [] });
const node = (v: number, entries: object[]) => Buffer.from(JSON.stringify({ v, entries }));

describe('tree nodes with names of any bytes', () => {
  test('a node of UTF-8 names stays version 1, byte for byte as before', () => {
    const body = encodeNode({ entries: [file('a'), file('é')] });
    expect(body.toString()).toBe(`{"v":1,"entries":${JSON.stringify([file('a'), file('é')])}}`);
    expect(decodeNode(body, 'n')).toEqual({ v: 1, entries: [file('a'), file('é')] });
  });

  test('a name or link target that is not UTF-8 makes version 2, escaped as \\udcXX in the JSON', () => {
    const entries: TreeEntry[] = [
      file('caf\udce9'),
      { ...meta, name: 'l', type: 'symlink', target: '/x/\udcff' },
    ];
    const body = encodeNode({ entries });
    expect(body.toString()).toContain('"v":2');
    expect(body.toString()).toContain('caf\\udce9');
    expect(decodeNode(body, 'n')).toEqual({ v: 2, entries });
    expect(TREE_VERSION).toBe(2);
  });

  test('entries sort by the bytes of their names', () => {
    // U+00E9 is C3 A9, the lone byte E9 sorts after it; U+FFFD (EF BF BD) after both
    const names = ['\ufffd', 'caf\udce9', 'café', 'cafe'].sort(compareNames);
    expect(names).toEqual(['cafe', 'café', 'caf\udce9', '\ufffd']);
    expect(() => decodeNode(node(2, [file('caf\udce9'), file('café')]), 'n')).toThrow(/unsorted/);
  });

  test('readers refuse escaped names in version 1, strings no bytes give, and newer versions', () => {
    expect(failure(() => decodeNode(node(1, [file('caf\udce9')]), 'n')).code).toBe('CORRUPT');
    expect(failure(() => decodeNode(node(2, [file('\udcc3\udca9')]), 'n')).code).toBe('CORRUPT');
    expect(failure(() => decodeNode(node(2, [file('\ud800')]), 'n')).code).toBe('CORRUPT');
    const newer = failure(() => decodeNode(node(3, [file('a')]), 'n'));
    expect(newer).toBeInstanceOf(KlosetError);
    expect(newer.code).toBe('UNSUPPORTED_VERSION');
    expect(failure(() => decodeNode(node(0, [file('a')]), 'n')).code).toBe('CORRUPT');
  });
});

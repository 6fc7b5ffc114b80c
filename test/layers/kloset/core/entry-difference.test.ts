import {
  type EntryDifference,
  compareEntries,
  sameEntry,
} from '../../../../layers/kloset/core/entry-difference.js';
import type { TreeEntry } from '../../../../layers/kloset/core/tree-node.js';

const ID = (c: string) => c.repeat(64);
const meta = { mode: 0o644, uid: 1, gid: 1, mtime: '1000' };
const file: TreeEntry = { name: 'f', type: 'file', size: 3, chunks: [ID('a')], inode: 7, links: 1, ...meta };
const dir: TreeEntry = { name: 'f', type: 'dir', subtree: ID('b'), ...meta };
const link: TreeEntry = { name: 'f', type: 'symlink', target: 'x', ...meta };
const none = { type: false, content: false, metadata: false, identity: false };

describe('compareEntries', () => {
  test.each<[string, TreeEntry, TreeEntry, EntryDifference]>([
    ['equal files', file, { ...file }, none],
    ['other chunks', file, { ...file, chunks: [ID('c')] }, { ...none, content: true }],
    ['another mode', file, { ...file, mode: 0o600 }, { ...none, metadata: true }],
    ['another owner name', file, { ...file, user: 'me' }, { ...none, metadata: true }],
    ['another inode', file, { ...file, inode: 8 }, { ...none, identity: true }],
    ['another subtree', dir, { ...dir, subtree: ID('c') }, { ...none, content: true }],
    ['another target', link, { ...link, target: 'y' }, { ...none, content: true }],
    ['a file and a directory', file, dir, { ...none, type: true, content: true }],
  ])('%s', (_what, a, b, expected) => {
    expect(compareEntries(a, b)).toEqual(expected);
  });

  test('the same entry differs in nothing, its name included', () => {
    expect(sameEntry(file, { ...file })).toBe(true);
    expect(sameEntry(file, { ...file, name: 'g' })).toBe(false);
    expect(sameEntry(file, { ...file, links: 2 })).toBe(false);
    expect(sameEntry(file, undefined)).toBe(false);
  });
});

/**
 * Trees whose names and link targets are any bytes (but `/` and NUL), for property tests:
 * an arbitrary, a writer and a byte-exact digest, all with Buffer paths.
 */
import {
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import fc from 'fast-check';

export type ByteTree = ReadonlyMap<string, ByteNode>;
export type ByteNode = { readonly file: Buffer } | { readonly symlink: Buffer } | { readonly dir: ByteTree };

const SLASH = 0x2f;
const isNameByte = (b: number) => b !== 0 && b !== SLASH;

/** Names people and programs actually make trouble with, besides random bytes. */
const tricky = fc.constantFrom(
  Buffer.from('caf\xe9', 'latin1'),
  Buffer.from('\x1b[2Jcleared', 'latin1'),
  Buffer.from('two\nlines', 'latin1'),
  Buffer.from('tab\there', 'latin1'),
  Buffer.from('back\\slash', 'latin1'),
  Buffer.from([0xed, 0xa0, 0x80]), // an encoded UTF-16 surrogate: not UTF-8
  Buffer.from([0xc3, 0xa9, 0xe9]), // é then a lone Latin-1 é
  Buffer.from('é\u{1f600}\ufffd', 'utf8'),
  Buffer.from([0xc2, 0x9b, 0x33, 0x31, 0x6d]), // C1 CSI
);

/** One path component of 1–255 bytes. */
export function byteName(utf8Only = false): fc.Arbitrary<Buffer> {
  const bytes = fc
    .uint8Array({ minLength: 1, maxLength: 255 })
    .map((a) => Buffer.from(a.filter(isNameByte)))
    .filter((b) => b.length > 0);
  const text = fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
    .map((s) => Buffer.from(s, 'utf8'))
    .filter((b) => b.length <= 255 && b.every(isNameByte));
  const any = utf8Only ? fc.oneof(text, tricky) : fc.oneof(bytes, text, tricky);
  return any
    .filter((b) => !b.equals(Buffer.from('.')) && !b.equals(Buffer.from('..')))
    .filter((b) => !utf8Only || isValidUtf8(b));
}

function isValidUtf8(b: Buffer): boolean {
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

const REPLACEMENT = Buffer.from('\ufffd');

/**
 * A tree of up to `depth` levels of directories, each with a few files, symlinks and directories.
 * `utf8Only`: what SFTP carries; link targets then hold no U+FFFD either (over SFTP one cannot
 * tell it from a byte that is not UTF-8, so such a link is reported, not backed up).
 */
export function byteTree(depth: number, utf8Only = false): fc.Arbitrary<ByteTree> {
  const name = byteName(utf8Only);
  const target = fc
    .array(fc.oneof(name, fc.constant(Buffer.from('/'))), { minLength: 1, maxLength: 4 })
    .map((parts) => Buffer.concat(parts))
    .filter((t) => !utf8Only || !t.includes(REPLACEMENT));
  const leaf: fc.Arbitrary<ByteNode> = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((a) => ({ file: Buffer.from(a) })),
    target.map((t) => ({ symlink: t })),
  );
  const node: fc.Arbitrary<ByteNode> =
    depth === 0
      ? leaf
      : fc.oneof(
          leaf,
          byteTree(depth - 1, utf8Only).map((dir) => ({ dir })),
        );
  return fc
    .uniqueArray(fc.tuple(name, node), {
      maxLength: 5,
      selector: ([n]) => n.toString('hex'),
    })
    .map((entries) => new Map(entries.map(([n, e]) => [n.toString('hex'), e])));
}

const join = (dir: Buffer, hexName: string) =>
  Buffer.concat([dir, Buffer.from('/'), Buffer.from(hexName, 'hex')]);

/** Writes `tree` into the existing directory `root`. */
export function writeByteTree(root: Buffer, tree: ByteTree): void {
  for (const [hexName, node] of tree) {
    const path = join(root, hexName);
    if ('file' in node) writeFileSync(path, node.file);
    else if ('symlink' in node) symlinkSync(node.symlink, path);
    else {
      mkdirSync(path);
      writeByteTree(path, node.dir);
    }
  }
}

/** What is below `root`, byte-exact: by hex of the relative path, the type and content or target. */
export function byteDigest(root: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: Buffer, rel: string): void => {
    for (const name of readdirSync(dir, { encoding: 'buffer' })) {
      const path = join(dir, name.toString('hex'));
      const key = rel ? `${rel}/${name.toString('hex')}` : name.toString('hex');
      const st = lstatSync(path);
      if (st.isSymbolicLink())
        out[key] = `symlink ${readlinkSync(path, { encoding: 'buffer' }).toString('hex')}`;
      else if (st.isDirectory()) {
        out[key] = 'dir';
        walk(path, key);
      } else out[key] = `file ${readFileSync(path).toString('hex')}`;
    }
  };
  walk(root, '');
  return out;
}

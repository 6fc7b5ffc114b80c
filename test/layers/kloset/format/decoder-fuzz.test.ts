/**
 * Every decoder of stored bytes, fed 10,000 random and mutated inputs each (seeded, so a failure
 * reproduces): it decodes, or throws a KlosetError, and nothing else, and never takes long.
 */
import { randomBytes } from 'node:crypto';
import { NullCipher } from '../../../../layers/kloset/crypto/blob-cipher.js';
import { StoreMac, sha256Authenticator } from '../../../../layers/kloset/crypto/mac.js';
import { KlosetError } from '../../../../layers/kloset/core/errors.js';
import { BlobType, PackKind } from '../../../../layers/kloset/format/blob.js';
import { ObjectType, openObject, sealObject } from '../../../../layers/kloset/format/object.js';
import { openIndexDelta } from '../../../../layers/kloset/index/index-delta.js';
import { IndexTable } from '../../../../layers/kloset/index/index-table.js';
import {
  decodeFooter,
  encodeFooter,
  openPackIndex,
  sealPackIndex,
} from '../../../../layers/kloset/pack/pack-format.js';
import { openKeySlot } from '../../../../layers/kloset/repository/key-slots.js';
import {
  type StoreConfig,
  openConfig,
  sealConfig,
} from '../../../../layers/kloset/repository/store-config.js';
import { decodeSnapshot, encodeSnapshot } from '../../../../layers/kloset/snapshot/snapshot-record.js';
import { decodeNode, encodeNode } from '../../../../layers/kloset/core/tree-node.js';
import { decodePartialTree } from '../../../../layers/kloset/backup/partial-tree.js';

const RUNS = 10_000;
/** one decode of a small input takes microseconds: this is far beyond any honest decode */
const SLOW_MS = 250;

/** mulberry32: small, fast, and the same sequence for the same seed everywhere */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Mutator {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }

  /** 1–4 byte-level edits: flips, boundary values in 32-bit fields, cuts, insertions, repeats */
  mutateBytes(valid: Buffer): Buffer {
    let b = Buffer.from(valid);
    for (let edits = 1 + this.int(4); edits > 0; edits--) {
      const at = this.int(Math.max(1, b.length));
      switch (this.int(6)) {
        case 0:
          if (b.length > 0) b[at] ^= 1 << this.int(8);
          break;
        case 1:
          if (at + 4 <= b.length) b.writeUInt32LE([0, 1, 0x7fffffff, 0xffffffff, b.length][this.int(5)]!, at);
          break;
        case 2:
          b = b.subarray(0, at);
          break;
        case 3:
          b = Buffer.concat([b.subarray(0, at), this.bytes(1 + this.int(16)), b.subarray(at)]);
          break;
        case 4:
          b = Buffer.concat([b, b.subarray(at, at + 1 + this.int(64))]);
          break;
        default:
          if (b.length > 0) b[at] = this.int(256);
      }
    }
    return b;
  }

  /** a value of the JSON replaced at a random place by one of another shape */
  mutateJson(valid: unknown): Buffer {
    const copy = structuredClone(valid) as Record<string, unknown>;
    const odd = [null, -1, 1.5, 2 ** 60, '', '..', 'a/b', 'x'.repeat(300), [], {}, true, '0'.repeat(64), 2];
    let node: Record<string, unknown> = copy;
    for (let depth = 0; depth < 4; depth++) {
      const keys = Object.keys(node);
      if (keys.length === 0) break;
      const key = keys[this.int(keys.length)]!;
      const child = node[key];
      if (child && typeof child === 'object' && this.int(2) === 0) {
        node = child as Record<string, unknown>;
        continue;
      }
      if (this.int(5) === 0) delete node[key];
      else node[key] = odd[this.int(odd.length)];
      break;
    }
    return Buffer.from(JSON.stringify(copy));
  }

  /** random bytes, or a mutation of the valid sample (as bytes, or of its JSON) */
  input(valid: Buffer, json?: unknown): Buffer {
    const pick = this.int(10);
    if (pick < 2) return this.bytes(this.int(300));
    if (json !== undefined && pick < 6) return this.mutateJson(json);
    return this.mutateBytes(valid);
  }
}

/** Runs `decode` on RUNS inputs; returns the first inputs that broke the contract. */
async function fuzz(
  seed: number,
  valid: Buffer,
  decode: (input: Buffer) => unknown,
  json?: unknown,
): Promise<{ decoded: number; failures: string[] }> {
  const m = new Mutator(seed);
  const failures: string[] = [];
  let decoded = 0;
  for (let i = 0; i < RUNS && failures.length < 3; i++) {
    const input = i === 0 ? valid : m.input(valid, json);
    const started = performance.now();
    try {
      await decode(input);
      decoded++;
    } catch (err) {
      if (!(err instanceof KlosetError))
        failures.push(
          `run ${i}: ${(err as Error)?.name}: ${(err as Error)?.message} on ${input.toString('hex')}`,
        );
    }
    const took = performance.now() - started;
    if (took > SLOW_MS) failures.push(`run ${i}: took ${Math.round(took)} ms on ${input.toString('hex')}`);
  }
  return { decoded, failures };
}

const mac = new StoreMac(Buffer.alloc(32, 7));
const nullCipher = new NullCipher();
const id = () => randomBytes(32);
const hex = () => randomBytes(32).toString('hex');

const config: StoreConfig = {
  version: 1,
  storeId: randomBytes(16).toString('hex'),
  createdAt: new Date(0).toISOString(),
  chunking: {
    algorithm: 'fastcdc',
    min: 524288,
    avg: 1048576,
    max: 8388608,
    seed: randomBytes(16).toString('hex'),
  },
  compression: { algorithm: 'zstd', level: 3 },
  mac: { algorithm: 'hmac-sha256' },
  encryption: {
    algorithm: 'aes-256-gcm',
    kdf: { algorithm: 'scrypt', N: 32768, r: 8, p: 1 },
    canary: randomBytes(32).toString('base64'),
  },
  packing: { targetSize: 16777216 },
};
const keySlot = {
  version: 1,
  createdAt: new Date(0).toISOString(),
  hostname: 'host',
  username: 'me',
  kdf: { algorithm: 'scrypt', N: 1024, r: 8, p: 1, salt: randomBytes(32).toString('base64') },
  wrapped: randomBytes(92).toString('base64'),
};
const meta = { mode: 0o644, uid: 1000, gid: 1000, mtime: '1700000000000000000' };
const treeNode = {
  v: 1,
  entries: [
    { name: 'a.txt', type: 'file', ...meta, size: 5, chunks: [hex()] },
    { name: 'dir', type: 'dir', ...meta, subtree: hex() },
    { name: 'link', type: 'symlink', ...meta, target: '../a.txt' },
  ],
};
const partialTree = {
  v: 1,
  items: [{ path: '/home/me/a.txt', entry: treeNode.entries[0] }],
  dirs: [{ path: '/home/me', meta }],
  counts: { files: 1, dirs: 1, symlinks: 0, bytes: 5, filesRead: 1, newBytes: 5, storedBytes: 60 },
  errors: [{ path: '/home/me/x', message: 'permission denied' }],
};
const snapshot = {
  v: 1,
  time: new Date(0).toISOString(),
  hostname: 'host',
  username: 'me',
  tags: ['daily'],
  sources: ['/home/me'],
  root: hex(),
  summary: {
    files: 1,
    dirs: 1,
    symlinks: 1,
    bytes: 5,
    filesRead: 1,
    newBytes: 5,
    storedBytes: 60,
    durationMs: 3,
  },
  errors: [{ path: '/home/me/x', message: 'permission denied' }],
};
const table = IndexTable.fromRecords(
  [
    { name: hex(), kind: PackKind.Data, size: 1000 },
    { name: hex(), kind: PackKind.Metadata, size: 500 },
  ],
  [
    { id: id(), type: BlobType.Data, packNo: 0, offset: 8, length: 100, rawLength: 90 },
    { id: id(), type: BlobType.Tree, packNo: 1, offset: 8, length: 50, rawLength: 40 },
    { id: id(), type: BlobType.Snapshot, packNo: 1, offset: 58, length: 50, rawLength: 40 },
  ],
  [hex()],
  [hex()],
);
const packBlobs = [
  { id: id(), type: BlobType.Data, offset: 8, length: 100, rawLength: 90 },
  { id: id(), type: BlobType.Tree, offset: 108, length: 50, rawLength: 40 },
];

/** Seals (re-seals, for mutated bodies) so the decoder behind the trailer check is reached. */
function sealed(type: ObjectType, body: Buffer, auth = mac.authenticator): { data: Buffer; name: string } {
  const s = sealObject(type, [body], auth);
  return { data: Buffer.concat(s.parts), name: s.name };
}

const decoders: [string, Buffer, (input: Buffer) => unknown, unknown?][] = [
  [
    'object wrapper',
    sealed(ObjectType.Pack, randomBytes(100)).data,
    (b) => openObject(b, ObjectType.Pack, mac.authenticator, 'pack'),
  ],
  [
    'object wrapper, re-sealed (trailer right, header fuzzed)',
    sealed(ObjectType.Index, randomBytes(100)).data,
    (b) => {
      const body = b.subarray(0, Math.max(0, b.length - 32));
      return openObject(
        Buffer.concat([body, mac.authenticator([body])]),
        ObjectType.Index,
        mac.authenticator,
        'x',
      );
    },
  ],
  [
    'pack footer',
    Buffer.concat([encodeFooter(200, 300), randomBytes(32)]),
    (b) => decodeFooter(b, 548, 'pack'),
  ],
  [
    'pack index',
    Buffer.concat(sealPackIndex(packBlobs, nullCipher)),
    (b) => openPackIndex(b, nullCipher, 1000, 'pack'),
  ],
  ['index delta table', table.encode(), (b) => IndexTable.decode(b, 'index delta')],
  [
    'index delta object (zstd payload)',
    Buffer.concat([Buffer.of(0), table.encode()]),
    (b) => {
      const { data, name } = sealed(ObjectType.Index, b);
      return openIndexDelta(data, name, nullCipher, mac.authenticator);
    },
  ],
  ['tree node', encodeNode(treeNode as never), (b) => decodeNode(b, 'tree'), treeNode],
  [
    'partial tree',
    Buffer.from(JSON.stringify(partialTree)),
    (b) => decodePartialTree(b, 'partial tree'),
    partialTree,
  ],
  ['snapshot record', encodeSnapshot(snapshot), (b) => decodeSnapshot(hex(), b), snapshot],
  [
    'store config',
    Buffer.from(JSON.stringify(config)),
    (b) => openConfig(sealed(ObjectType.Config, b, sha256Authenticator).data, 'store'),
    config,
  ],
  [
    'key slot',
    Buffer.from(JSON.stringify(keySlot)),
    (b) => {
      const { data, name } = sealed(ObjectType.Key, b, sha256Authenticator);
      return openKeySlot(data, name);
    },
    keySlot,
  ],
];

describe('decoders of stored bytes fail only with typed errors', () => {
  test('every valid sample decodes', async () => {
    sealConfig(config); // the sample config is one create would write
    for (const [, valid, decode] of decoders)
      await expect(Promise.resolve().then(() => decode(valid))).resolves.toBeDefined();
  });

  test.each(decoders.map(([name, valid, decode, json], i) => [name, i, valid, decode, json] as const))(
    '%s: 10,000 random and mutated inputs',
    async (_name, i, valid, decode, json) => {
      const { decoded, failures } = await fuzz(1100 + i, valid, decode, json);
      expect(failures).toEqual([]);
      // the valid sample at least; mutations that keep a valid shape decode too
      expect(decoded).toBeGreaterThanOrEqual(1);
    },
  );
});

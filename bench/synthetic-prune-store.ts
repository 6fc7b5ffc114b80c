/**
 * A store of many blobs written without any data: real snapshot records, trees and metadata
 * packs, and index deltas locating the data blobs the trees name in packs that are stored empty.
 * Only what prune reads is real (the trees it walks, the deltas it merges, the listing of packs),
 * so the mark phase and the consolidated index can be measured at 10 million blobs in minutes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { emptyCounts } from '../layers/kloset/backup/partial-tree.js';
import { BlobType, PackKind } from '../layers/kloset/format/blob.js';
import { encodeNode, type TreeEntry } from '../layers/kloset/core/tree-node.js';
import { sealIndexTable } from '../layers/kloset/index/index-delta.js';
import { type BlobRecord, IndexTable, type PackInfo } from '../layers/kloset/index/index-table.js';
import { RepositoryWriter } from '../layers/kloset/repository/repository-writer.js';
import type { Repository } from '../layers/kloset/repository/repository.js';
import { encodeSnapshot } from '../layers/kloset/snapshot/snapshot-record.js';

const FILES_PER_DIR = 1000;
const DIRS_PER_DIR = 1000;
const BLOBS_PER_PACK = 1000;
/** blobs per index delta: as many backups' deltas as a store of this size would have */
const BLOBS_PER_DELTA = 500_000;
const CHUNK_BYTES = 64 * 1024;

/** The data blob `i`'s ID: derived, so trees and deltas agree without holding the IDs. */
function blobId(i: number): Buffer {
  return createHash('sha256').update(`synthetic blob ${i}`).digest();
}

const meta = { mode: 0o644, uid: 0, gid: 0, mtime: '0' };

/** One snapshot whose files are blobs [from, to), one chunk each, 1,000 files to a directory. */
async function writeSnapshot(writer: RepositoryWriter, from: number, to: number): Promise<string> {
  const saveTree = async (entries: TreeEntry[]) =>
    (await writer.saveBlob(BlobType.Tree, encodeNode({ entries }))).id.toString('hex');
  let level: string[] = [];
  for (let start = from; start < to; start += FILES_PER_DIR) {
    const entries: TreeEntry[] = [];
    for (let i = start; i < Math.min(to, start + FILES_PER_DIR); i++)
      entries.push({
        name: `f${String(i).padStart(10, '0')}`,
        type: 'file',
        size: CHUNK_BYTES,
        chunks: [blobId(i).toString('hex')],
        ...meta,
      });
    level.push(await saveTree(entries));
  }
  while (level.length > 1) {
    const up: string[] = [];
    for (let d = 0; d < level.length; d += DIRS_PER_DIR)
      up.push(
        await saveTree(
          level.slice(d, d + DIRS_PER_DIR).map((subtree, k) => ({
            name: `d${String(d + k).padStart(10, '0')}`,
            type: 'dir',
            subtree,
            ...meta,
          })),
        ),
      );
    level = up;
  }
  return saveSnapshot(writer, level[0]!, to - from);
}

/** The snapshot record of the tree `root` holding `files` files; its ID. */
async function saveSnapshot(writer: RepositoryWriter, root: string, files: number): Promise<string> {
  const body = encodeSnapshot({
    v: 1,
    time: new Date().toISOString(),
    hostname: 'synthetic',
    username: 'bench',
    tags: [],
    sources: ['/synthetic'],
    root,
    summary: { ...emptyCounts(), files, durationMs: 0 },
    errors: [],
  });
  return (await writer.saveBlob(BlobType.Snapshot, body)).id.toString('hex');
}

/**
 * Empty packs stored this many at a time: a local store syncs each object it writes, and one at a
 * time the 10,000 packs of a 10M-blob store waited on the disk (the generator used 14 % of a core).
 */
const PUTS_AT_ONCE = 32;

async function putEmptyPacks(repo: Repository, names: readonly string[]): Promise<void> {
  for (let at = 0; at < names.length; at += PUTS_AT_ONCE)
    await Promise.all(
      names.slice(at, at + PUTS_AT_ONCE).map((name) => repo.backend.put('packs', name, [Buffer.alloc(0)])),
    );
}

/** Index deltas for blobs [0, blobs), in empty stored packs of 1,000 blobs each. */
async function writeDataDeltas(repo: Repository, blobs: number): Promise<void> {
  for (let start = 0; start < blobs; start += BLOBS_PER_DELTA) {
    const packs: PackInfo[] = [];
    const records: BlobRecord[] = [];
    for (let i = start; i < Math.min(blobs, start + BLOBS_PER_DELTA); i++) {
      if ((i - start) % BLOBS_PER_PACK === 0) {
        const name = createHash('sha256').update(`synthetic pack ${i}`).digest('hex');
        packs.push({ name, kind: PackKind.Data, size: BLOBS_PER_PACK * CHUNK_BYTES });
      }
      const at = (i - start) % BLOBS_PER_PACK;
      records.push({
        id: blobId(i),
        type: BlobType.Data,
        packNo: packs.length - 1,
        offset: at * CHUNK_BYTES,
        length: CHUNK_BYTES,
        rawLength: CHUNK_BYTES,
      });
    }
    await putEmptyPacks(
      repo,
      packs.map((p) => p.name),
    );
    const sealed = await sealIndexTable(
      IndexTable.fromRecords(packs, records),
      repo.cipher,
      repo.mac.authenticator,
    );
    await repo.backend.put('index', sealed.name, sealed.parts);
  }
}

/**
 * `blobs` data blobs: the first half in a kept snapshot, the second half in a removed one, so
 * prune finds half the packs unused.
 */
export async function writeSyntheticStore(repo: Repository, blobs: number): Promise<void> {
  await writeDataDeltas(repo, blobs);
  const writer = new RepositoryWriter(repo);
  const kept = await writeSnapshot(writer, 0, blobs / 2);
  const removed = await writeSnapshot(writer, blobs / 2, blobs);
  await writer.commit({ snapshots: [kept, removed] });
  await new RepositoryWriter(repo).commit({ tombstones: [removed] });
}

/**
 * `count` small backups, each with one new file of 2 KB in a snapshot of its own: a data pack, a
 * metadata pack and an index delta each, as `kloud backup` writes them, without its fixed cost
 * per run (workers, listing the source), so that opening after 1,000 of them can be measured.
 */
export async function writeSmallBackups(repo: Repository, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const writer = new RepositoryWriter(repo);
    const data = await writer.saveBlob(BlobType.Data, randomBytes(2000));
    const file: TreeEntry = {
      name: 'f',
      type: 'file',
      size: 2000,
      chunks: [data.id.toString('hex')],
      ...meta,
    };
    const root = await writer.saveBlob(BlobType.Tree, encodeNode({ entries: [file] }));
    await writer.commit({ snapshots: [await saveSnapshot(writer, root.id.toString('hex'), 1)] });
  }
}

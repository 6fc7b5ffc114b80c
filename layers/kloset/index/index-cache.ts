import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobCipher } from '../crypto/blob-cipher.js';
import { ID_SIZE } from '../crypto/mac.js';
import { BinaryReader, BinaryWriter } from '../format/binary.js';
import type { Authenticator } from '../format/object.js';
import { openIndexObject, sealIndexTable } from './index-delta.js';
import { IndexTable } from './index-table.js';

/** Index deltas as the store lists them: name (hex) → size in bytes. */
export type DeltaListing = ReadonlyMap<string, number>;

/** Cache files of this layout; files of the older layout (`merged-<hash>`) are removed at the next save. */
const PREFIX = 'merged-v2-';

/**
 * A local cache of the merged index, named by the hash of the set of delta names it merges.
 * It is encrypted like a delta and purely an optimisation: delete it at any time and the next
 * open merges the deltas again. A cache of an older set is reused when every delta it covers is
 * still listed with the size it had, so a new backup costs one delta read, not a full merge; a
 * delta truncated or replaced since is read again, never trusted from memory.
 */
export class IndexCache {
  constructor(
    private readonly dir: string,
    private readonly cipher: BlobCipher,
    private readonly auth: Authenticator,
  ) {}

  private static key(names: Iterable<string>): string {
    return createHash('sha256')
      .update([...names].sort().join('\n'))
      .digest('hex');
  }

  async load(listed: DeltaListing): Promise<{ table: IndexTable; covered: Set<string> } | undefined> {
    const candidates = (await this.files()).filter((f) => f.startsWith(PREFIX));
    const exact = `${PREFIX}${IndexCache.key(listed.keys())}`;
    const ordered = [exact, ...candidates.filter((f) => f !== exact)].filter((f) => candidates.includes(f));
    for (const file of ordered.slice(0, 2)) {
      try {
        const payload = await openIndexObject(
          await readFile(join(this.dir, file)),
          this.cipher,
          this.auth,
          'index cache',
        );
        const r = new BinaryReader(payload, 'index cache');
        const covered = new Set<string>();
        let fits = true;
        for (let n = r.u32(); n > 0; n--) {
          const name = r.bytes(ID_SIZE).toString('hex');
          if (listed.get(name) !== r.u64()) fits = false;
          covered.add(name);
        }
        if (!fits) continue;
        const table = IndexTable.decode(payload.subarray(4 + covered.size * (ID_SIZE + 8)), 'index cache');
        return { table, covered };
      } catch {
        await unlink(join(this.dir, file)).catch(() => undefined);
      }
    }
    return undefined;
  }

  async save(listed: DeltaListing, table: IndexTable): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const prefix = new BinaryWriter(4 + listed.size * (ID_SIZE + 8));
    prefix.u32(listed.size);
    for (const [name, size] of listed) prefix.bytes(Buffer.from(name, 'hex')).u64(size);
    const sealed = await sealIndexTable(table, this.cipher, this.auth, prefix.finish());
    const file = `${PREFIX}${IndexCache.key(listed.keys())}`;
    const tmp = join(this.dir, `.tmp-${randomBytes(6).toString('hex')}`);
    await writeFile(tmp, Buffer.concat(sealed.parts), { mode: 0o600 });
    await rename(tmp, join(this.dir, file));
    for (const old of await this.files())
      if (old !== file) await unlink(join(this.dir, old)).catch(() => undefined);
  }

  /** Cache files, newest first. */
  private async files(): Promise<string[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((f) => f.startsWith('merged-'));
    } catch {
      return [];
    }
    const withTime = await Promise.all(
      names.map(async (f) => ({
        f,
        t: (await stat(join(this.dir, f)).catch(() => undefined))?.mtimeMs ?? 0,
      })),
    );
    return withTime.sort((a, b) => b.t - a.t).map((x) => x.f);
  }
}

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobCipher } from '../crypto/blob-cipher.js';
import { ID_SIZE } from '../crypto/mac.js';
import { BinaryReader, BinaryWriter } from '../format/binary.js';
import type { Authenticator } from '../format/object.js';
import { openIndexObject, sealIndexTable } from './index-delta.js';
import { IndexTable } from './index-table.js';

/**
 * A local cache of the merged index, named by the hash of the set of delta names it merges.
 * It is encrypted like a delta and purely an optimisation: delete it at any time and the next
 * open merges the deltas again. A cache of an older set is reused when it covers a subset of
 * today's deltas, so a new backup costs one delta read, not a full merge.
 */
export class IndexCache {
  constructor(
    private readonly dir: string,
    private readonly cipher: BlobCipher,
    private readonly auth: Authenticator,
  ) {}

  private static key(names: readonly string[]): string {
    return createHash('sha256')
      .update([...names].sort().join('\n'))
      .digest('hex');
  }

  async load(names: readonly string[]): Promise<{ table: IndexTable; covered: Set<string> } | undefined> {
    const wanted = new Set(names);
    const candidates = await this.files();
    const exact = `merged-${IndexCache.key(names)}`;
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
        for (let n = r.u32(); n > 0; n--) covered.add(r.bytes(ID_SIZE).toString('hex'));
        if (![...covered].every((c) => wanted.has(c))) continue;
        const table = IndexTable.decode(payload.subarray(4 + covered.size * ID_SIZE), 'index cache');
        return { table, covered };
      } catch {
        await unlink(join(this.dir, file)).catch(() => undefined);
      }
    }
    return undefined;
  }

  async save(names: readonly string[], table: IndexTable): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const prefix = new BinaryWriter(4 + names.length * ID_SIZE);
    prefix.u32(names.length);
    for (const n of names) prefix.bytes(Buffer.from(n, 'hex'));
    const sealed = await sealIndexTable(table, this.cipher, this.auth, prefix.finish());
    const file = `merged-${IndexCache.key(names)}`;
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

import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  openSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { LocalFile } from '../core/restore-destination.js';
import { type BlobCipher, type CipherSpec, cipherFromSpec } from '../crypto/blob-cipher.js';
import { ID_SIZE, StoreMac } from '../crypto/mac.js';
import { corrupt, errorText } from '../core/errors.js';
import { BlobType } from '../format/blob.js';
import { fsPath } from '../core/byte-names.js';
import { openBlobSync } from '../pack/blob-opening.js';

/** What a writing thread needs of the store, given once when it starts. */
export interface WriteSettings {
  readonly cipher: CipherSpec;
  readonly macKey: Uint8Array;
  /** the process's umask: a file created with its final mode needs no chmod when it survives */
  readonly umask: number;
}

/** One new file to create and fill, with the metadata to give it. */
export interface FileToWrite extends LocalFile {
  readonly size: number;
  /** the file's chunks, in order, as indexes into the batch's blobs */
  readonly blobs: readonly number[];
}

/**
 * Files crossing to a writing thread in one message with the sealed blobs they are made of, read
 * from their packs by the restoring thread: `sealed` holds the blobs back to back, and each
 * array is a view of its own ArrayBuffer, moved rather than copied.
 */
export interface FilesToWrite {
  readonly files: readonly FileToWrite[];
  readonly sealed: Uint8Array;
  readonly ids: Uint8Array;
  readonly lengths: Uint32Array;
  readonly rawLengths: Uint32Array;
  /** each blob's pack, for messages */
  readonly packs: readonly string[];
}

/**
 * For each file of the request, why it was not written (undefined when it was); and the sealed
 * bytes, moved back so that the restoring thread reads the next batch into the same memory.
 */
export interface WriteOutcome {
  readonly errors: (string | undefined)[];
  readonly sealed: Uint8Array;
}

export function writeTransferList(request: FilesToWrite): ArrayBuffer[] {
  const { sealed, ids, lengths, rawLengths } = request;
  return [sealed, ids, lengths, rawLengths].map((a) => a.buffer as ArrayBuffer);
}

const EXCLUSIVE_CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
const PERMISSION_BITS = 0o777;

/**
 * Opens blobs and writes files with synchronous calls: in a worker thread (several of them write
 * in parallel, so the kernel's work of creating files and filling the page cache runs on every
 * core), or on the main thread for a small restore. A file is created exclusively at its final
 * path (no pre-existing file or symbolic link is ever followed or replaced) with its final
 * permission bits when no owner or special bit must be set first, written blob by blob, then
 * given its owner, mode and times through its descriptor: open, write, close and futimens are the
 * only calls most files need. A file that fails is removed; a crash mid-restore can leave one
 * partial file per thread, as with restic.
 */
export class FileWriter {
  private readonly cipher: BlobCipher;
  private readonly mac: StoreMac;

  constructor(private readonly settings: WriteSettings) {
    this.cipher = cipherFromSpec(settings.cipher);
    this.mac = new StoreMac(Buffer.from(settings.macKey));
  }

  write(request: FilesToWrite): WriteOutcome {
    const sealed = Buffer.from(request.sealed.buffer, request.sealed.byteOffset, request.sealed.length);
    const starts: number[] = [];
    let at = 0;
    for (const length of request.lengths) {
      starts.push(at);
      at += length;
    }
    const blob = (i: number): Buffer => {
      const loc = {
        id: Buffer.from(request.ids.buffer, request.ids.byteOffset + i * ID_SIZE, ID_SIZE),
        type: BlobType.Data,
        length: request.lengths[i]!,
        rawLength: request.rawLengths[i]!,
        pack: { name: request.packs[i]! },
      };
      return openBlobSync(this.cipher, this.mac, loc, sealed.subarray(starts[i], starts[i]! + loc.length));
    };
    const errors = request.files.map((file) => {
      try {
        this.writeFile(file, blob);
        return undefined;
      } catch (err) {
        return errorText(err);
      }
    });
    return { errors, sealed: request.sealed };
  }

  private writeFile(file: FileToWrite, blob: (i: number) => Buffer): void {
    // with an owner to set, the file stays private until chown (which clears set-ID bits) is done
    const createMode = file.owner ? 0o600 : file.mode & PERMISSION_BITS;
    const fd = openSync(fsPath(file.path), EXCLUSIVE_CREATE, createMode);
    let complete = false;
    try {
      let size = 0;
      for (const i of file.blobs) {
        const data = blob(i);
        for (let done = 0; done < data.length;) done += writeSync(fd, data, done);
        size += data.length;
      }
      if (size !== file.size) throw corrupt(`content is ${size} bytes, expected ${file.size}`);
      if (file.owner) fchownSync(fd, file.owner.uid, file.owner.gid);
      if (file.owner || file.mode !== (createMode & ~this.settings.umask)) fchmodSync(fd, file.mode);
      futimesSync(fd, file.mtime, file.mtime);
      complete = true;
    } finally {
      closeSync(fd);
      if (!complete) unlinkQuietly(file.path);
    }
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(fsPath(path));
  } catch {
    // already gone, or its directory is: nothing of ours is left there
  }
}

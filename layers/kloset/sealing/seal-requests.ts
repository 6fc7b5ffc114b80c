import { BatchSealer, type SealSettings } from './batch-sealer.js';
import { type PlainBatch, type SealedBatch, transferList } from './blob-batch.js';
import { type FileBatch, type SealedFiles, sealedFilesTransferList } from './file-batch.js';
import { FileSealer } from './file-sealer.js';

/** What a sealing thread is asked: blobs to seal, or small files to read, cut and seal. */
export type SealRequest = { readonly blobs: PlainBatch } | { readonly files: FileBatch };
export type SealAnswer = { readonly blobs: SealedBatch } | { readonly files: SealedFiles };

/** The buffers a request or an answer moves to the other thread. */
export function sealTransferList(message: SealRequest | SealAnswer): ArrayBuffer[] {
  if ('blobs' in message) return transferList(message.blobs);
  if ('paths' in message.files) return [message.files.buffer.buffer as ArrayBuffer];
  return sealedFilesTransferList(message.files);
}

/** The sealing work, the same in a worker thread and on the main thread. */
export function sealingHandler(settings: SealSettings): (request: SealRequest) => SealAnswer {
  const blobs = new BatchSealer(settings);
  const files = new FileSealer(settings, blobs);
  return (request) =>
    'blobs' in request ? { blobs: blobs.seal(request.blobs) } : { files: files.seal(request.files) };
}

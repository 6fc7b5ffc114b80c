import { KlosetError } from '../errors.js';
import { FsStore } from './fs/fs-store.js';
import type { StoreBackend } from './store-backend.js';

/**
 * Chooses the store connector from the location's scheme: a plain path or `fs:PATH` is a local
 * directory; `s3://` and `sftp://` arrive with their connectors.
 */
export function openLocation(location: string): StoreBackend {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(location)?.[1]?.toLowerCase();
  if (scheme === undefined) return new FsStore(location);
  if (scheme === 'fs' || scheme === 'file') {
    const path = location.slice(scheme.length + 1).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new KlosetError('INVALID_ARGUMENT', `no path in ${location}`);
    return new FsStore(path);
  }
  if (scheme === 's3' || scheme === 'sftp') {
    throw new KlosetError('UNSUPPORTED', `${scheme} stores are not supported by this version of kloud yet`);
  }
  throw new KlosetError('UNSUPPORTED', `unknown location scheme "${scheme}:" in ${location}`);
}

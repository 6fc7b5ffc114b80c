import { KlosetError } from '../errors.js';
import { FsStore } from './fs/fs-store.js';
import { S3Store } from './s3/s3-store.js';
import type { StoreBackend } from './store-backend.js';

/** Connector settings as `key=value` pairs (an alias's options, or the CLI's `k=v` arguments). */
export type ConnectorOptions = Readonly<Record<string, string>>;

/**
 * Chooses the store connector from the location's scheme: a plain path or `fs:PATH` is a local
 * directory, `s3://bucket/prefix` an S3 prefix; `sftp://` arrives with its connector. `options`
 * configure the connector (for S3 they may also come from the URL's query; explicit ones win).
 */
export function openLocation(location: string, options: ConnectorOptions = {}): StoreBackend {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(location)?.[1]?.toLowerCase();
  if (scheme === 's3') return new S3Store(location, options);
  if (Object.keys(options).length > 0 && scheme !== 'sftp') {
    const names = Object.keys(options).join(', ');
    throw new KlosetError('INVALID_ARGUMENT', `local stores take no connector options (got ${names})`);
  }
  if (scheme === undefined) return new FsStore(location);
  if (scheme === 'fs' || scheme === 'file') {
    const path = location.slice(scheme.length + 1).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new KlosetError('INVALID_ARGUMENT', `no path in ${location}`);
    return new FsStore(path);
  }
  if (scheme === 'sftp') {
    throw new KlosetError('UNSUPPORTED', `${scheme} stores are not supported by this version of kloud yet`);
  }
  throw new KlosetError('UNSUPPORTED', `unknown location scheme "${scheme}:" in ${location}`);
}

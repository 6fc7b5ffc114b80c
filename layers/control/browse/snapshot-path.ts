/** The path a browse request names inside a snapshot, from `path` (UTF-8 text) or `pathBytes` (base64). */
import { nameFromBytes } from '../../kloset/core/byte-names.js';
import { BadRequest } from '../errors.js';
import type { PathParameters } from './browse-schemas.js';

const invalid = (message: string) => new BadRequest(`query.path: ${message}`, 'INVALID_INPUT');

/** The absolute, normalized path (`/` for none); `..` and NUL are refused rather than resolved. */
export function snapshotPath({ path, pathBytes }: PathParameters): string {
  if (path !== undefined && pathBytes !== undefined)
    throw new BadRequest('query: give path or pathBytes, not both', 'INVALID_INPUT');
  const text = pathBytes === undefined ? (path ?? '/') : nameFromBytes(Buffer.from(pathBytes, 'base64'));
  if (!text.startsWith('/'))
    throw invalid('expected an absolute path inside the snapshot, such as /etc/hosts');
  const parts = text.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw invalid('.. is not allowed: give the path without it');
  if (text.includes('\0')) throw invalid('a path holds no NUL byte');
  return `/${parts.join('/')}`;
}

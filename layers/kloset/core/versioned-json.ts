import type { z } from 'zod';
import { KlosetError, corrupt } from './errors.js';

/** One of the store's JSON documents (tree node, snapshot record, store config) as its decoder knows it. */
export interface JsonFormat<S extends z.ZodType> {
  /** how messages name the format: `tree`, `snapshot`, `store config` */
  readonly name: string;
  /** the field holding the document's version */
  readonly versionField: string;
  /** the newest version this kloud reads */
  readonly version: number;
  readonly schema: S;
}

/**
 * Decodes a document: valid JSON, then a version this kloud knows (a newer one asks for an
 * upgrade rather than calling the document damaged), then its schema. `what` names the document.
 */
export function decodeVersionedJson<S extends z.ZodType>(
  data: Buffer,
  format: JsonFormat<S>,
  what: string,
): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw corrupt(`${what} is not valid JSON`, err);
  }
  const version = (json as Record<string, unknown> | null)?.[format.versionField];
  if (typeof version === 'number' && version > format.version) {
    throw new KlosetError(
      'UNSUPPORTED_VERSION',
      `${what} is ${format.name} format version ${version}; upgrade kloud to read it`,
    );
  }
  const parsed = format.schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw corrupt(`${what} is invalid: ${issue?.message ?? 'bad document'}${at}`);
  }
  return parsed.data;
}

import { KlosetError, corrupt } from '../core/errors.js';

/**
 * The wrapper every stored object shares (docs/FORMAT.md, "Object wrapper"):
 *
 *   magic "KLST" (4) | type u8 | version u8 | flags u16 LE | body ... | trailer (32)
 *
 * The trailer authenticates header and body: SHA-256 for the objects read before the keys are
 * known (config, key slots), HMAC-SHA256 under the store's MAC key for everything else. Object
 * names are the hex of the trailer, so a name is a checksum of its content.
 */
export const MAGIC = Buffer.from('KLST', 'ascii');
export const HEADER_SIZE = 8;
export const TRAILER_SIZE = 32;

export enum ObjectType {
  Config = 1,
  Key = 2,
  Pack = 3,
  Index = 4,
  PrunePlan = 5,
}

/** The newest version of each object type this code reads and writes. */
export const CURRENT_VERSION: Record<ObjectType, number> = {
  [ObjectType.Config]: 1,
  [ObjectType.Key]: 1,
  [ObjectType.Pack]: 1,
  [ObjectType.Index]: 1,
  [ObjectType.PrunePlan]: 1,
};

const TYPE_NAMES: Record<ObjectType, string> = {
  [ObjectType.Config]: 'config',
  [ObjectType.Key]: 'key slot',
  [ObjectType.Pack]: 'pack',
  [ObjectType.Index]: 'index delta',
  [ObjectType.PrunePlan]: 'prune plan',
};

/** Computes the trailer over the concatenation of `parts` without concatenating them. */
export type Authenticator = (parts: readonly Buffer[]) => Buffer;

export function objectHeader(type: ObjectType, flags = 0): Buffer {
  const h = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(h, 0);
  h[4] = type;
  h[5] = CURRENT_VERSION[type];
  h.writeUInt16LE(flags, 6);
  return h;
}

export interface SealedObject {
  /** header, body parts, trailer: written in this order. */
  readonly parts: Buffer[];
  /** hex of the trailer: the object's name. */
  readonly name: string;
  readonly size: number;
}

export function sealObject(
  type: ObjectType,
  body: readonly Buffer[],
  auth: Authenticator,
  flags = 0,
): SealedObject {
  const parts = [objectHeader(type, flags), ...body];
  const trailer = auth(parts);
  parts.push(trailer);
  return { parts, name: trailer.toString('hex'), size: parts.reduce((n, p) => n + p.length, 0) };
}

export interface ObjectHeader {
  readonly type: ObjectType;
  readonly version: number;
  readonly flags: number;
}

/**
 * Validates magic, type and version of a header. Runs before anything else is decoded, so an
 * object from a newer kloud is refused with a clear message rather than misread.
 */
export function readHeader(data: Buffer, expected: ObjectType, what: string): ObjectHeader {
  if (data.length < HEADER_SIZE) throw corrupt(`${what} is truncated (${data.length} bytes)`);
  if (!data.subarray(0, 4).equals(MAGIC)) throw corrupt(`${what} is not a kloud object (bad magic)`);
  const type = data[4]!;
  if (type !== expected) {
    throw corrupt(`${what} has object type ${type}, expected ${TYPE_NAMES[expected]} (${expected})`);
  }
  const version = data[5]!;
  if (version > CURRENT_VERSION[expected] || version === 0) {
    throw new KlosetError(
      'UNSUPPORTED_VERSION',
      `${what} uses ${TYPE_NAMES[expected]} format version ${version}; this kloud reads up to version ${CURRENT_VERSION[expected]} — upgrade kloud`,
    );
  }
  return { type, version, flags: data.readUInt16LE(6) };
}

/** Checks header and trailer of a whole object and returns its body. */
export function openObject(
  data: Buffer,
  expected: ObjectType,
  auth: Authenticator,
  what: string,
  expectedName?: string,
): { header: ObjectHeader; body: Buffer } {
  const header = readHeader(data, expected, what);
  if (data.length < HEADER_SIZE + TRAILER_SIZE) throw corrupt(`${what} is truncated (${data.length} bytes)`);
  const end = data.length - TRAILER_SIZE;
  const trailer = data.subarray(end);
  const computed = auth([data.subarray(0, end)]);
  if (!computed.equals(trailer)) throw corrupt(`${what} is damaged (checksum mismatch)`);
  if (expectedName !== undefined && trailer.toString('hex') !== expectedName) {
    throw corrupt(`${what} does not match its name`);
  }
  return { header, body: data.subarray(HEADER_SIZE, end) };
}

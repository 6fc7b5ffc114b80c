import { isUtf8 } from 'node:buffer';

/**
 * File names and paths are any bytes (docs/FORMAT.md, "Names as bytes"). The engine keeps them as
 * strings: valid UTF-8 decoded as usual, and each byte that is not part of a valid UTF-8 sequence
 * as the lone surrogate U+DC00 + byte (U+DC80–U+DCFF), as Python's "surrogateescape" does. That is
 * one-to-one from byte strings, and JSON carries lone surrogates (`\udce9`), so trees keep such
 * names as they are; only the boundaries (node:fs calls, terminals, `--json`) convert.
 */
const ESCAPE_BASE = 0xdc00;

/** Length of the well-formed UTF-8 sequence at `i` (Unicode table 3-7), or 0. */
function sequenceLength(b: Uint8Array, i: number): number {
  const lead = b[i]!;
  if (lead < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (lead >= 0xc2 && lead <= 0xdf) return cont(1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    const lo = lead === 0xe0 ? 0xa0 : 0x80;
    const hi = lead === 0xed ? 0x9f : 0xbf; // ED A0..BF would be a UTF-16 surrogate
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    const lo = lead === 0xf0 ? 0x90 : 0x80;
    const hi = lead === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** The name of these bytes: UTF-8, with every other byte as U+DC00 + byte. */
export function nameFromBytes(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (isUtf8(buf)) return buf.toString('utf8');
  let out = '';
  let run = 0;
  for (let i = 0; i < buf.length;) {
    const n = sequenceLength(buf, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += buf.toString('utf8', run, i) + String.fromCharCode(ESCAPE_BASE + buf[i]!);
    run = ++i;
  }
  return out + buf.toString('utf8', run);
}

const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;
const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;

/** The bytes a name stands for (the inverse of nameFromBytes). */
export function nameToBytes(name: string): Buffer {
  if (name.isWellFormed()) return Buffer.from(name, 'utf8');
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (isHighSurrogate(c) && i + 1 < name.length && isLowSurrogate(name.charCodeAt(i + 1))) {
      i++; // a pair: one character outside the BMP
    } else if (c >= ESCAPE_BASE + 0x80 && c <= ESCAPE_BASE + 0xff) {
      parts.push(Buffer.from(name.slice(run, i), 'utf8'), Buffer.of(c - ESCAPE_BASE));
      run = i + 1;
    }
  }
  parts.push(Buffer.from(name.slice(run), 'utf8'));
  return Buffer.concat(parts);
}

/**
 * Whether a string is a name of some bytes, in the one form nameFromBytes gives: no lone
 * surrogate but U+DC80–U+DCFF, and none of those where the bytes read as UTF-8.
 */
export function isByteName(name: string): boolean {
  return name.isWellFormed() || nameFromBytes(nameToBytes(name)) === name;
}

/** Whether a name is plain UTF-8 (holds no escaped byte). */
export function isUtf8Name(name: string): boolean {
  return name.isWellFormed();
}

/** A path for node:fs calls: the string itself when plain UTF-8, else its bytes. */
export function fsPath(path: string): string | Buffer {
  return path.isWellFormed() ? path : nameToBytes(path);
}

/**
 * Names for JSON that is read by programs which expect UTF-8 (a JSON.stringify replacer, or one
 * call on a flat object): in every object, a string holding bytes that are not UTF-8 is written as
 * UTF-8 with U+FFFD for them, and beside it `<key>Bytes` holds all its bytes in base64
 * (`"path": "/u8/caf\ufffd", "pathBytes": "L3U4L2NhZuk="`). An array of strings with any such
 * string is written likewise, and `<key>Bytes` is an array of the same length: base64 for each
 * such string, null for the others. (Objects inside arrays are objects.)
 */
export function losslessNames(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  let out: Record<string, unknown> | undefined;
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string' && !v.isWellFormed()) {
      out ??= { ...value };
      out[key] = v.toWellFormed();
      out[`${key}Bytes`] = nameToBytes(v).toString('base64');
    } else if (isStrings(v) && !v.every((s) => s.isWellFormed())) {
      out ??= { ...value };
      out[key] = v.map((s) => s.toWellFormed());
      out[`${key}Bytes`] = v.map((s) => (s.isWellFormed() ? null : nameToBytes(s).toString('base64')));
    }
  }
  return out ?? value;
}

function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string');
}

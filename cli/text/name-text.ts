/**
 * Names and paths at the CLI's edges. In the engine a name is any bytes (bytes that are not UTF-8
 * as U+DC80–U+DCFF, see docs/FORMAT.md); a terminal gets them escaped as `ls -b` does, so that no
 * name can move the cursor or clear the screen; JSON gets them lossless; and what people type
 * back in the escaped form names the same bytes.
 */
import { nameFromBytes, nameToBytes } from '../../layers/kloset/core/byte-names.js';

/** The engine's JSON replacer for names (`<key>Bytes` beside a string that is not UTF-8). */
export { losslessNames } from '../../layers/kloset/core/byte-names.js';

/** What a terminal must not get raw: C0, DEL, C1, the backslash, and bytes that are not UTF-8. */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const UNSAFE = /[\x00-\x1f\x7f-\x9f\\]|[\udc80-\udcff]/gu;
const NAMED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\t': '\\t' };

const hexByte = (byte: number) => `\\x${byte.toString(16).padStart(2, '0')}`;

/**
 * Text for a terminal, like `ls -b`: `\\`, `\n`, `\t`, and `\xNN` for every other control
 * character (as its UTF-8 bytes) and every byte that is not UTF-8; the rest as it is.
 */
export function terminalText(text: string): string {
  return text.replace(UNSAFE, (c) => NAMED[c] ?? [...nameToBytes(c)].map(hexByte).join(''));
}

const ESCAPE = /\\(\\|n|t|x[0-9a-fA-F]{2})/g;
const TYPED: Record<string, number> = { '\\': 0x5c, n: 0x0a, t: 0x09 };

/**
 * A name or path as typed in the escaped form terminalText prints: `\\`, `\n`, `\t` and `\xNN`
 * are that byte; any other backslash is a backslash.
 */
export function typedText(text: string): string {
  if (!text.includes('\\')) return text;
  const parts: Buffer[] = [];
  let at = 0;
  for (const m of text.matchAll(ESCAPE)) {
    parts.push(Buffer.from(text.slice(at, m.index), 'utf8'));
    const e = m[1]!;
    parts.push(Buffer.of(TYPED[e] ?? parseInt(e.slice(1), 16)));
    at = m.index + m[0].length;
  }
  parts.push(Buffer.from(text.slice(at), 'utf8'));
  return nameFromBytes(Buffer.concat(parts));
}

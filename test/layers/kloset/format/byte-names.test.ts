import fc from 'fast-check';
import {
  fsPath,
  isByteName,
  isUtf8Name,
  nameFromBytes,
  nameToBytes,
} from '../../../../layers/kloset/core/byte-names.js';

const bytes = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));

describe('names as bytes (surrogate escapes)', () => {
  test('bytes -> name -> bytes is the identity, and every name made from bytes is canonical', () => {
    fc.assert(
      fc.property(bytes, (b) => {
        const name = nameFromBytes(b);
        expect(nameToBytes(name).equals(b)).toBe(true);
        expect(isByteName(name)).toBe(true);
        expect(isUtf8Name(name)).toBe(b.toString('utf8') === name && Buffer.from(name).equals(b));
      }),
      { numRuns: 2000 },
    );
  });

  test('distinct bytes give distinct names', () => {
    fc.assert(
      fc.property(bytes, bytes, (a, b) => {
        expect(nameFromBytes(a) === nameFromBytes(b)).toBe(a.equals(b));
      }),
      { numRuns: 2000 },
    );
  });

  test('UTF-8 decodes as usual; each other byte becomes U+DC00 + byte, as Python surrogateescape', () => {
    expect(nameFromBytes(Buffer.from('café'))).toBe('café');
    expect(nameFromBytes(Buffer.from('caf\xe9', 'latin1'))).toBe('caf\udce9');
    // a truncated sequence, then valid text: only the bytes that are not UTF-8 are escaped
    expect(nameFromBytes(Buffer.from([0xe2, 0x82, 0x41]))).toBe('\udce2\udc82A');
    expect(nameFromBytes(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\udced\udca0\udc80');
    expect(nameFromBytes(Buffer.from([0xf0, 0x9f, 0x98, 0x80, 0xff]))).toBe('\u{1f600}\udcff');
    expect(nameToBytes('x\u{10080}\udc80')).toEqual(Buffer.from([0x78, 0xf0, 0x90, 0x82, 0x80, 0x80]));
  });

  test('strings that no bytes give are not names', () => {
    expect(isByteName('\udcc3\udca9')).toBe(false); // those bytes are é: its name is "é"
    expect(isByteName('\ud800')).toBe(false);
    expect(isByteName('\udc41')).toBe(false); // ASCII is never escaped
  });

  test('node:fs gets a string for UTF-8 paths and the bytes otherwise', () => {
    expect(fsPath('/a/café')).toBe('/a/café');
    expect(fsPath('/a/caf\udce9')).toEqual(Buffer.from('/a/caf\xe9', 'latin1'));
  });
});

import fc from 'fast-check';
import { losslessNames, terminalText, typedText } from '../../cli/text/name-text.js';
import { nameFromBytes, nameToBytes } from '../../layers/kloset/index.js';

const anyName = fc.uint8Array({ maxLength: 80 }).map((a) => nameFromBytes(a));

describe('names at the CLI edges', () => {
  test('terminal text holds no control character and no byte that is not UTF-8', () => {
    fc.assert(
      fc.property(anyName, (name) => {
        // eslint-disable-next-line no-control-regex -- control characters are what it looks for
        expect(terminalText(name)).toMatch(/^[^\x00-\x1f\x7f-\x9f]*$/);
        expect(terminalText(name).isWellFormed()).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  test('what terminal text shows, typed back, names the same bytes', () => {
    fc.assert(
      fc.property(anyName, (name) => expect(typedText(terminalText(name))).toBe(name)),
      { numRuns: 2000 },
    );
  });

  test('escapes as ls -b: \\\\, \\n, \\t, \\xNN; C1 characters as their UTF-8 bytes', () => {
    expect(terminalText('a\\b\n\tc\x1b[2J\x7f')).toBe('a\\\\b\\n\\tc\\x1b[2J\\x7f');
    expect(terminalText('caf\udce9 café \u009b')).toBe('caf\\xe9 café \\xc2\\x9b');
    expect(typedText('a\\b\\q\\x4')).toBe('a\\b\\q\\x4'); // other backslashes are themselves
  });

  test('JSON keeps every name: UTF-8 with U+FFFD, and the bytes in base64 beside it', () => {
    const value = { path: '/u8/caf\udce9', ok: 'é', list: [{ name: '\udcff' }] };
    const parsed = JSON.parse(JSON.stringify(value, losslessNames));
    expect(parsed).toEqual({
      path: '/u8/caf\ufffd',
      pathBytes: nameToBytes('/u8/caf\udce9').toString('base64'),
      ok: 'é',
      list: [{ name: '\ufffd', nameBytes: Buffer.of(0xff).toString('base64') }],
    });
  });

  test('JSON keeps names in arrays of strings: a Bytes array beside, null where UTF-8', () => {
    const value = { sources: ['/etc', '/u8/caf\udce9'], tags: ['daily'] };
    expect(JSON.parse(JSON.stringify(value, losslessNames))).toEqual({
      sources: ['/etc', '/u8/caf\ufffd'],
      sourcesBytes: [null, nameToBytes('/u8/caf\udce9').toString('base64')],
      tags: ['daily'],
    });
  });
});

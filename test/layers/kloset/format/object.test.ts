import { sha256Authenticator } from '../../../../layers/kloset/crypto/mac.js';
import { ObjectType, openObject, sealObject } from '../../../../layers/kloset/format/object.js';
import { failure } from '../fixtures.js';

function sealed(): Buffer {
  return Buffer.concat(
    sealObject(ObjectType.Key, [Buffer.from('{"hello":"world"}')], sha256Authenticator).parts,
  );
}

describe('object wrapper', () => {
  test('round trip returns the body and the name is the trailer', () => {
    const s = sealObject(ObjectType.Key, [Buffer.from('ab'), Buffer.from('cd')], sha256Authenticator);
    const data = Buffer.concat(s.parts);
    expect(data.subarray(0, 4).toString()).toBe('KLST');
    expect(openObject(data, ObjectType.Key, sha256Authenticator, 'x', s.name).body.toString()).toBe('abcd');
    expect(s.name).toBe(data.subarray(data.length - 32).toString('hex'));
  });

  test('a truncated object is refused as truncated before decoding', () => {
    const data = sealed();
    const e = failure(() => openObject(data.subarray(0, 20), ObjectType.Key, sha256Authenticator, 'key'));
    expect(e.code).toBe('CORRUPT');
    expect(e.message).toMatch(/truncated|damaged/);
    expect(
      failure(() => openObject(data.subarray(0, 5), ObjectType.Key, sha256Authenticator, 'key')).message,
    ).toMatch(/truncated/);
  });

  test('a flipped bit is detected', () => {
    const data = sealed();
    data[12]! ^= 1;
    expect(failure(() => openObject(data, ObjectType.Key, sha256Authenticator, 'key')).message).toMatch(
      /damaged/,
    );
  });

  test('a newer version is refused with a clear message', () => {
    const data = sealed();
    data[5] = 9;
    const e = failure(() => openObject(data, ObjectType.Key, sha256Authenticator, 'key'));
    expect(e.code).toBe('UNSUPPORTED_VERSION');
    expect(e.message).toMatch(/version 9.*upgrade kloud/);
  });

  test('another type or bad magic is refused', () => {
    expect(failure(() => openObject(sealed(), ObjectType.Pack, sha256Authenticator, 'pack')).code).toBe(
      'CORRUPT',
    );
    const data = sealed();
    data[0] = 0x58;
    expect(failure(() => openObject(data, ObjectType.Key, sha256Authenticator, 'key')).message).toMatch(
      /not a kloud object/,
    );
  });
});

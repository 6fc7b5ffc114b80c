/** Where `kloud remote` takes its endpoint and credentials from, in the documented order. */
import { resolveConnection } from '../../../cli/remote/connection.js';
import type { Remote } from '../../../cli/remote/remotes.js';

const API = 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1';
const local: Remote = { name: 'local', url: 'http://127.0.0.1:4710', token: 'remote-token' };
const prod: Remote = { name: 'prod', url: API, aws: true, profile: 'ops' };

test('--url wins over $KLOUD_URL, and $KLOUD_TOKEN goes with them', () => {
  const env = { KLOUD_URL: 'http://127.0.0.1:1', KLOUD_TOKEN: 'env-token' };
  expect(resolveConnection({ url: 'http://127.0.0.1:2' }, undefined, env)).toEqual({
    url: new URL('http://127.0.0.1:2'),
    authorization: { kind: 'token', token: 'env-token' },
  });
  expect(resolveConnection({}, undefined, env).url.port).toBe('1');
  expect(resolveConnection({ token: 'flag-token' }, undefined, env).authorization).toEqual({
    kind: 'token',
    token: 'flag-token',
  });
});

test("a named remote's URL and credentials win over the environment; flags win over the remote", () => {
  const env = { KLOUD_URL: 'http://127.0.0.1:1', KLOUD_TOKEN: 'env-token', AWS_REGION: 'us-east-1' };
  expect(resolveConnection({ remote: 'local' }, local, env)).toEqual({
    url: new URL(local.url),
    authorization: { kind: 'token', token: 'remote-token' },
  });
  // a SigV4 remote does not pick up $KLOUD_TOKEN; its region comes from the API's host name
  expect(resolveConnection({ remote: 'prod' }, prod, env).authorization).toEqual({
    kind: 'aws',
    region: 'eu-west-1',
    profile: 'ops',
  });
  expect(
    resolveConnection({ remote: 'prod', region: 'eu-central-1', profile: 'ci' }, prod, env).authorization,
  ).toEqual({
    kind: 'aws',
    region: 'eu-central-1',
    profile: 'ci',
  });
  expect(resolveConnection({ remote: 'local', aws: true }, local, env).authorization).toEqual({
    kind: 'aws',
    region: 'us-east-1',
  });
});

test('without a token: SigV4, its region from the host, else $AWS_REGION, else $AWS_DEFAULT_REGION, else an error', () => {
  expect(resolveConnection({ url: API }, undefined, { AWS_REGION: 'us-east-1' }).authorization).toEqual({
    kind: 'aws',
    region: 'eu-west-1',
  });
  const custom = 'https://backups.example.com/v1';
  expect(
    resolveConnection({ url: custom }, undefined, { AWS_DEFAULT_REGION: 'ap-south-1' }).authorization,
  ).toEqual({
    kind: 'aws',
    region: 'ap-south-1',
  });
  expect(() => resolveConnection({ url: custom }, undefined, {})).toThrow(
    'no AWS region to sign requests to https://backups.example.com with',
  );
});

test('no URL anywhere, or one that is not http(s), is a usage error', () => {
  expect(() => resolveConnection({}, undefined, { KLOUD_TOKEN: 't' })).toThrow('no control plane to call');
  expect(() => resolveConnection({ url: 'ftp://x' }, undefined, {})).toThrow('bad API URL "ftp://x"');
  expect(() => resolveConnection({ url: 'http://x/?a=1' }, undefined, {})).toThrow('bad API URL');
});

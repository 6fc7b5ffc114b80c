import {
  chooseIntegration,
  compatibleIntegrations,
} from '../../../../layers/control/integrations/integration-catalog.js';

test('each storage sub-class has its integrations', () => {
  expect(compatibleIntegrations('directory').map((i) => i.id)).toEqual(['fs']);
  expect(compatibleIntegrations('s3-bucket').map((i) => i.id)).toEqual(['s3']);
  expect(compatibleIntegrations('sftp-server').map((i) => i.id)).toEqual(['sftp']);
});

test('the only compatible integration with one protocol is chosen without asking', () => {
  expect(chooseIntegration('directory', {})).toEqual({ integration: 'fs', protocol: 'fs' });
  expect(chooseIntegration('sftp-server', {})).toEqual({ integration: 'sftp', protocol: 'sftp' });
});

test('an integration with several protocols makes the caller pick one', () => {
  expect(() => chooseIntegration('s3-bucket', {})).toThrow(
    'integration s3 has several protocols: pick one of s3, s3-compatible ("protocol")',
  );
  expect(chooseIntegration('s3-bucket', { protocol: 's3-compatible' })).toEqual({
    integration: 's3',
    protocol: 's3-compatible',
  });
  expect(chooseIntegration('s3-bucket', { integration: 's3', protocol: 's3' })).toEqual({
    integration: 's3',
    protocol: 's3',
  });
});

test('an integration or protocol that does not fit is refused with the ones that do', () => {
  expect(() => chooseIntegration('s3-bucket', { integration: 'fs' })).toThrow(
    'integration "fs" cannot serve a s3-bucket: use one of s3',
  );
  expect(() => chooseIntegration('directory', { protocol: 's3' })).toThrow(
    'integration fs has no protocol "s3": use one of fs',
  );
});

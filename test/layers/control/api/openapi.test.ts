import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { OPERATIONS } from '../../../../layers/control/api/operations.js';
import { openApiYaml } from '../../../../layers/control/api/openapi-yaml.js';
import { ROUTES } from '../../../../layers/control/api/routes.js';

const CHECKED_IN = fileURLToPath(new URL('../../../../docs/openapi.yaml', import.meta.url));

test('docs/openapi.yaml is what npm run openapi writes from the schemas', async () => {
  expect(await readFile(CHECKED_IN, 'utf8')).toBe(openApiYaml());
});

test('every route has an operation and every operation a route', () => {
  expect(Object.keys(OPERATIONS).sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
});

test('the document describes each route with its parameters, body and answers', () => {
  const doc = parse(openApiYaml());
  expect(doc.openapi).toBe('3.1.0');
  const create = doc.paths['/store-apps'].post;
  expect(create.requestBody.content['application/json'].schema).toEqual({
    $ref: '#/components/schemas/CreateStoreApp',
  });
  expect(doc.components.schemas.CreateStoreApp.additionalProperties).toBe(false);
  expect(doc.components.schemas.CreateStoreApp.required).toEqual(
    expect.arrayContaining(['resourceId', 'name', 'storageType', 'passphrase']),
  );
  expect(Object.keys(create.responses)).toEqual(['201', '4XX', '5XX']);
  const test = doc.paths['/store-apps/{appId}/test'].post;
  expect(test.parameters).toEqual([expect.objectContaining({ name: 'appId', in: 'path', required: true })]);
  const list = doc.paths['/store-apps'].get;
  expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(['limit', 'nextToken']);
  // every $ref points at a component
  for (const [, ref] of openApiYaml().matchAll(/\$ref: "?#\/components\/schemas\/(\w+)/g))
    expect(doc.components.schemas).toHaveProperty(ref!);
  // secrets are inputs only
  expect(Object.keys(doc.components.schemas.StoreApp.properties)).not.toEqual(
    expect.arrayContaining([expect.stringMatching(/^(passphrase|credentials)$/)]),
  );
});

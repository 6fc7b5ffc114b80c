/**
 * The OpenAPI 3.1 document of the API, generated from the route table and the operations' zod
 * schemas (so it cannot drift from what the handlers accept). `npm run openapi` writes it to
 * docs/openapi.yaml; a test fails when that file is stale.
 */
import { z } from 'zod';
import { FsConfiguration } from '../store-apps/protocols/fs-protocol.js';
import {
  S3CompatibleConfiguration,
  S3Configuration,
  S3Credentials,
} from '../store-apps/protocols/s3-protocol.js';
import { SftpConfiguration, SftpCredentials } from '../store-apps/protocols/sftp-protocol.js';
import { ErrorAnswer } from './common-schemas.js';
import { OPERATIONS, type OperationKey, type OperationSpec } from './operations.js';
import { MAX_BODY_BYTES } from './request.js';
import { ROUTES } from './routes.js';

type JsonSchema = Record<string, unknown>;

/** Schemas shown as components although no operation names them (the per-protocol bodies). */
const EXTRA_COMPONENTS = [
  FsConfiguration,
  S3Configuration,
  S3CompatibleConfiguration,
  SftpConfiguration,
  S3Credentials,
  SftpCredentials,
];

const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'repeating the request with the same key answers the task the first created (200); the same key with another request is refused (422 IDEMPOTENCY_KEY_REUSED)',
  schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,128}$' },
};

class Components {
  readonly schemas: Record<string, JsonSchema> = {};

  /** The schema as JSON Schema, its named parts moved to components and referenced from there. */
  add(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
    const text = JSON.stringify(json).replaceAll('"#/$defs/', '"#/components/schemas/');
    const { $defs = {}, ...rest } = JSON.parse(text) as JsonSchema & { $defs?: Record<string, JsonSchema> };
    delete rest.$schema;
    for (const [id, def] of Object.entries($defs)) {
      const known = this.schemas[id];
      if (known && JSON.stringify(known) !== JSON.stringify(def))
        throw new Error(`schema ${id} differs between requests and answers: give each its own id`);
      this.schemas[id] = def;
    }
    return rest;
  }
}

function parameters(components: Components, schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const json = components.add(schema, 'input') as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      ...(description !== undefined && { description }),
      schema: rest,
    };
  });
}

function operation(components: Components, summary: string, spec: OperationSpec) {
  const error = { $ref: '#/components/responses/Error' };
  return {
    operationId: spec.id,
    summary,
    parameters: [
      ...parameters(components, spec.path, 'path'),
      ...parameters(components, spec.query, 'query'),
      ...(spec.idempotent ? [IDEMPOTENCY_KEY] : []),
    ],
    ...(spec.body && {
      requestBody: {
        required: true,
        description: `JSON, at most ${MAX_BODY_BYTES} bytes; unknown fields are refused`,
        content: { 'application/json': { schema: components.add(spec.body, 'input') } },
      },
    }),
    responses: {
      [spec.status]:
        spec.status === 204
          ? { description: 'done' }
          : {
              description: 'success',
              content: { 'application/json': { schema: components.add(spec.response, 'output') } },
            },
      ...(spec.idempotent && {
        200: {
          description: 'the task an earlier request with the same Idempotency-Key created',
          content: { 'application/json': { schema: components.add(spec.response, 'output') } },
        },
      }),
      '4XX': error,
      '5XX': error,
    },
  };
}

export function openApiDocument(): JsonSchema {
  const components = new Components();
  components.add(ErrorAnswer, 'output');
  for (const schema of EXTRA_COMPONENTS) components.add(schema, 'input');
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const key = `${route.method} ${route.path}` as OperationKey;
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(
      components,
      route.summary,
      OPERATIONS[key],
    );
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'kloud control plane',
      version: '1',
      description:
        'Store apps over Kloset stores: inventories, integrations, store apps, their actions and tasks. See docs/API.md.',
    },
    servers: [{ url: 'http://127.0.0.1:4710', description: 'local mode (npm start)' }],
    security: [{ sigv4: [] }, { localBearer: [] }],
    paths,
    components: {
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description: 'AWS IAM (Signature Version 4)',
        },
        localBearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'local mode: the token npm start prints',
        },
      },
      responses: {
        Error: {
          description: 'the request was refused or failed; `message` says why and what to do',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
      schemas: Object.fromEntries(Object.entries(components.schemas).sort(([a], [b]) => a.localeCompare(b))),
    },
  };
}

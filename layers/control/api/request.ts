/** An API Gateway proxy event's path, query and body, validated against its operation. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { z } from 'zod';
import { BadRequest, PayloadTooLarge } from '../errors.js';
import { parseInput } from '../validation.js';
import type { Caller } from '../tasks/tasks.js';
import type { OperationKey, OperationInput, OperationSpec } from './operations.js';

/** Bodies are small JSON documents; anything larger is a mistake. */
export const MAX_BODY_BYTES = 64 * 1024;

const NOTHING = z.strictObject({});

const IdempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,128}$/, 'expected 1-128 printable characters (no spaces)');

/** Header names are case-insensitive; API Gateway and local mode keep the client's spelling. */
function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  const found = Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === wanted);
  return found?.[1] ?? undefined;
}

/**
 * Who calls: the IAM principal API Gateway authorized (`local` where none did: local mode), and
 * on a task-creating call its Idempotency-Key.
 */
function readCaller(spec: OperationSpec, event: APIGatewayProxyEvent): Caller {
  const identity = event.requestContext?.identity;
  const principal = identity?.userArn ?? identity?.caller ?? 'local';
  const key = spec.idempotent ? header(event, 'Idempotency-Key') : undefined;
  return {
    principal,
    ...(key !== undefined && { idempotencyKey: parseInput(IdempotencyKey, key, 'header Idempotency-Key') }),
  };
}

function readBody(event: APIGatewayProxyEvent, expected: boolean): unknown {
  const raw = event.body ?? '';
  const bytes = Buffer.byteLength(raw, event.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes > MAX_BODY_BYTES) throw new PayloadTooLarge(MAX_BODY_BYTES);
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (text.trim() === '') return undefined;
  if (!expected) throw new BadRequest('this request takes no body', 'INVALID_INPUT');
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest('body: not valid JSON', 'INVALID_JSON');
  }
}

export function parseRequest<K extends OperationKey>(
  spec: OperationSpec,
  event: APIGatewayProxyEvent,
): OperationInput<K> {
  const body = readBody(event, spec.body !== undefined);
  return {
    path: parseInput(spec.path ?? NOTHING, event.pathParameters ?? {}, 'path'),
    query: parseInput(spec.query ?? NOTHING, event.queryStringParameters ?? {}, 'query'),
    body: spec.body ? parseInput(spec.body, body, 'body') : undefined,
    caller: readCaller(spec, event),
  } as OperationInput<K>;
}

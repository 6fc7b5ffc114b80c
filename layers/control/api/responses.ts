/**
 * The API's answers: JSON bodies, and every error as `{ "error": { "code", "message" } }`. This is
 * the one place errors become HTTP statuses; an unexpected error is logged and answered with a
 * generic message (its text may hold internals).
 */
import type { Created } from '../tasks/tasks.js';
import type { Task } from '../tasks/task.js';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ApiError } from '../errors.js';
import { logger } from '../runtime/observability.js';

const HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };

/** An answer with another status than its operation's usual one (an idempotent repeat: 200, not 202). */
export class Answer<T> {
  constructor(
    readonly status: number,
    readonly body: T,
  ) {}
}

export function jsonResponse(status: number, body: unknown): APIGatewayProxyResult {
  return { statusCode: status, headers: HEADERS, body: body === undefined ? '' : JSON.stringify(body) };
}

export function errorResponse(err: unknown, requestId: string): APIGatewayProxyResult {
  if (err instanceof ApiError) {
    if (err.status >= 500) logger.error('request failed', { code: err.code, error: err });
    else logger.info('request refused', { status: err.status, code: err.code, reason: err.message });
    return jsonResponse(err.status, { error: { code: err.code, message: err.message } });
  }
  logger.error('unexpected error', { error: err as Error });
  return jsonResponse(500, {
    error: {
      code: 'INTERNAL',
      message: `an unexpected error; the logs have it under request ID ${requestId}`,
    },
  });
}

/** 202 for a task created now, 200 for the one an earlier request with the same Idempotency-Key created. */
export function createdAnswer({ created, task }: Created): Task | Answer<Task> {
  return created ? task : new Answer(200, task);
}

/**
 * The task state machines' worker: runs one step of a task (start, a slice of its work, a
 * backup's stage, the record of a failure) per invocation, with the time the invocation has left.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from '../../layers/control/runtime/observability.js';
import { taskWorker } from '../../layers/control/runtime/task-worker-service.js';
import type { WorkerEvent, WorkerReply } from '../../layers/control/tasks/task-runner.js';

export const handler = middy((event: WorkerEvent, context: Context): Promise<WorkerReply> =>
  taskWorker().handle(event, context.getRemainingTimeInMillis()),
).use(injectLambdaContext(logger, { resetKeys: true }));

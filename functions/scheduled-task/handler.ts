/**
 * EventBridge Scheduler's target (and local mode's scheduler's): one run of a schedule, which
 * creates and starts the schedule's task. An event that is not a run is logged and dropped (a
 * retry could not fix it); any other error is thrown, so that the invocation is retried.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { logger } from '../../layers/control/runtime/observability.js';
import { scheduledRuns } from '../../layers/control/runtime/schedules-service.js';
import { ScheduledRunEvent } from '../../layers/control/schedules/schedule.js';
import type { RunOutcome } from '../../layers/control/schedules/scheduled-runs.js';

export const handler = middy(async (event: unknown): Promise<RunOutcome | { outcome: 'invalid' }> => {
  const parsed = ScheduledRunEvent.safeParse(event);
  if (!parsed.success) {
    logger.error('not a scheduled run', { issues: parsed.error.issues.map((i) => i.message) });
    return { outcome: 'invalid' };
  }
  return scheduledRuns().run(parsed.data);
}).use(injectLambdaContext(logger, { resetKeys: true }));

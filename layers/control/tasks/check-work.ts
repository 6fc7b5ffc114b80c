/**
 * The check task: `readData: false` is the store's fast check in one slice; `readData: true`
 * reads every pack, in slices (Store.checkData) whose checkpoint is the engine's cursor: a pack
 * name and the damage found so far. A check that finds problems fails, its report in the result.
 */
import { z } from 'zod';
import type { CheckProgress, CheckReport, DataCheckCursor } from '../../kloset/index.js';
import type { TaskDefinition } from './task-kinds.js';
import type { TaskFailure } from './task.js';

export const CheckParameters = z
  .strictObject({
    readData: z
      .boolean()
      .default(false)
      .meta({ description: 'read and verify every pack (long: runs in slices), not only the metadata' }),
  })
  .meta({ id: 'CheckParameters' });
export type CheckParameters = z.infer<typeof CheckParameters>;

type CheckResult = CheckReport & Record<string, unknown>;

/** What a task's result keeps of a report: its item must stay under DynamoDB's 400 KB. */
const KEPT_PROBLEMS = 100;
const KEPT_NAMES = 50;

/**
 * The report as the task keeps it: the first problems, each with its first snapshots and paths,
 * and how many there were (`kloud check` on the store lists them all).
 */
function bounded(report: CheckReport): CheckResult {
  const problems = report.problems.slice(0, KEPT_PROBLEMS).map((p) => ({
    ...p,
    snapshots: p.snapshots.slice(0, KEPT_NAMES),
    paths: p.paths.slice(0, KEPT_NAMES),
    ...(p.snapshots.length > KEPT_NAMES && { snapshotCount: p.snapshots.length }),
    ...(p.paths.length > KEPT_NAMES && { pathCount: p.paths.length }),
  }));
  return {
    ...report,
    problems,
    ...(report.problems.length > KEPT_PROBLEMS && { problemCount: report.problems.length }),
  };
}

/** Problems named in the failure's message; the result has more. */
const NAMED_PROBLEMS = 2;

function checkFailure(report: CheckResult): TaskFailure | undefined {
  if (report.ok) return undefined;
  const named = report.problems.slice(0, NAMED_PROBLEMS).map((p) => {
    const where =
      p.paths.length > 0 ? ` (${p.paths.slice(0, 3).join(', ')}${p.paths.length > 3 ? ', …' : ''})` : '';
    return `${p.message}${where}`;
  });
  const found = (report.problemCount as number | undefined) ?? report.problems.length;
  const more = found - named.length;
  return {
    code: 'CHECK_FOUND_PROBLEMS',
    message: `the check found ${found} problem(s): ${named.join('; ')}${more > 0 ? `; and ${more} more` : ''} (the result lists each with its snapshots and paths)`,
  };
}

export const checkTask: TaskDefinition<CheckParameters, DataCheckCursor, CheckResult> = {
  parameters: CheckParameters,
  work: ({ apps }) => ({
    async slice({ task, parameters, checkpoint, deadline, signal, report }) {
      const app = await apps.readyApp(task.appId);
      const onProgress = (p: CheckProgress) => report({ unit: p.phase, done: p.done, total: p.total });
      return apps.withStore(app, async (store) => {
        if (!parameters.readData) return { done: true, result: bounded(await store.check({ onProgress })) };
        const step = await store.checkData({
          deadline,
          signal,
          onProgress,
          ...(checkpoint && { cursor: checkpoint }),
        });
        return step.done
          ? { done: true, result: bounded(step.report) }
          : { done: false, checkpoint: step.cursor };
      });
    },
  }),
  failureOf: checkFailure,
};

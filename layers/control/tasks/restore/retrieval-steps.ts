/**
 * The steps of the restore workflow before its slices (lib/restore-state-machine.ts), as the
 * task-worker function runs them: `plan` finds whether the data packs the paths need are all
 * readable, `request` asks for the archived ones, `poll` looks again after each Wait. Each answers
 * where the execution goes next, and how long it waits before the next poll.
 *
 * Every step asks the engine the same idempotent question (`Store.retrieval` for each path): it
 * lists the archived packs, walks the paths' trees (metadata only), HEADs each archived pack the
 * paths need and asks for a copy of those that have none, so a second run asks for nothing
 * twice, and a copy that expired while others were still thawing is asked for again. Between
 * steps the task's checkpoint holds the resolved snapshot and the retrieval's deadline; the
 * restore's slices then start from that checkpoint.
 */
import type { RetrievalStatus } from '../../../kloset/index.js';
import { cost, retrievalOfPaths, typicalTime } from '../../engine/retrieval-needed.js';
import type { Store } from '../../engine/kloset-adapter.js';
import type { AppStores } from '../../store-apps/app-store.js';
import { isFinal, type TaskFailure, type TaskProgress, type TaskRecord } from '../task.js';
import type { TaskLifecycle } from '../task-lifecycle.js';
import type { TaskRepository } from '../task-repository.js';
import type { RestoreCheckpoint } from '../restore-work.js';
import { RestoreCounts } from './restore-counts.js';
import { RestoreParameters } from './restore-parameters.js';

/** The worker's input for these steps, as the restore state machine sends it. */
export type RetrievalEvent = {
  readonly action: 'plan-restore' | 'request-retrieval' | 'poll-retrieval';
  readonly taskId: string;
};

/** Where the execution goes after a step. */
export type RetrievalNext = 'restore' | 'request' | 'wait' | 'end';

export interface RetrievalAnswer {
  readonly next: RetrievalNext;
  /** the pause before the next poll (the Wait state's seconds) */
  readonly waitSeconds: number;
}

/** Where the retrieval stands between steps (in the restore's checkpoint). */
export interface RetrievalCheckpoint {
  /** epoch ms: when the packs were first asked for */
  readonly startedAt: number;
  /** epoch ms: past it, a poll that still finds packs archived fails the task */
  readonly deadline: number;
  /** what the retrievals asked for so far cost (list prices) */
  readonly costUsd: number;
}

const HOUR_MS = 3_600_000;
/** A poll every tenth of the typical longest retrieval time, between a minute and an hour. */
const MIN_WAIT_SECONDS = 60;
const MAX_WAIT_SECONDS = 3_600;
/** Pack names a failure lists (a task's item holds it; the rest are counted). */
const MAX_LISTED_PACKS = 20;

const END: RetrievalAnswer = { next: 'end', waitSeconds: 0 };

/** The pause before the next poll: a tenth of the longest typical time, so a 5-hour retrieval is polled every 30 minutes. */
export function waitSecondsFor(status: RetrievalStatus): number {
  const seconds = Math.round((status.estimate.hours[1] * 3_600) / 10);
  return Math.min(MAX_WAIT_SECONDS, Math.max(MIN_WAIT_SECONDS, seconds));
}

export class RetrievalSteps {
  constructor(
    private readonly repository: TaskRepository,
    private readonly lifecycle: TaskLifecycle,
    private readonly apps: AppStores,
    private readonly now: () => number = Date.now,
  ) {}

  async handle(event: RetrievalEvent): Promise<RetrievalAnswer> {
    const task = await this.repository.get(event.taskId);
    if (isFinal(task.state)) return END;
    const parameters = RestoreParameters.parse(task.parameters);
    const app = await this.apps.readyApp(task.appId);
    return this.apps.withStore(app, (store) => {
      switch (event.action) {
        case 'plan-restore':
          return this.plan(store, task, parameters);
        case 'request-retrieval':
        case 'poll-retrieval':
          return this.retrieve(store, task, parameters);
      }
    });
  }

  /**
   * Resolves the snapshot (a later `latest` may be another) and looks without asking for
   * anything: all readable goes straight to the restore, else the task waits for a retrieval.
   */
  private async plan(
    store: Store,
    task: TaskRecord,
    parameters: RestoreParameters,
  ): Promise<RetrievalAnswer> {
    // an earlier attempt of this step got as far as the wait (its answer was lost)
    if (task.state === 'waiting-for-retrieval') return { next: 'request', waitSeconds: 0 };
    if (task.state !== 'running') return END;
    const snapshot = (await store.resolveSnapshot(parameters.snapshot)).id;
    const { tier, days, deadlineHours } = parameters.retrieval;
    const status = await retrievalOfPaths(store, snapshot, parameters.paths, { tier, days, dryRun: true });
    const checkpoint: RestoreCheckpoint = { snapshot, pathIndex: 0, counts: new RestoreCounts().data() };
    if (status.pending === 0) {
      const saved = await this.repository.update(task.id, (t) =>
        t.state === 'running' ? { checkpoint } : undefined,
      );
      return saved.written ? { next: 'restore', waitSeconds: 0 } : END;
    }
    const startedAt = this.now();
    // by default twice the typical longest time, as the engine's own wait gives up
    const hours = deadlineHours ?? Math.max(1, 2 * status.estimate.hours[1]);
    const retrieval: RetrievalCheckpoint = { startedAt, deadline: startedAt + hours * HOUR_MS, costUsd: 0 };
    const { moved } = await this.lifecycle.move(task.id, 'waiting-for-retrieval', {
      checkpoint: { ...checkpoint, retrieval },
      progress: this.progress(status, retrieval),
    });
    return moved ? { next: 'request', waitSeconds: waitSecondsFor(status) } : END;
  }

  /**
   * `request` and `poll` alike: asks for every archived pack with no copy (the engine's requests
   * run 16 at a time; a copy that expired is asked for again) and looks at the others. All
   * readable → the restore; past the deadline → the task fails; else → wait.
   */
  private async retrieve(
    store: Store,
    task: TaskRecord,
    parameters: RestoreParameters,
  ): Promise<RetrievalAnswer> {
    const checkpoint = task.checkpoint as RestoreCheckpoint | undefined;
    // an earlier attempt of this step found every pack readable (its answer was lost)
    if (task.state === 'running' && checkpoint) return { next: 'restore', waitSeconds: 0 };
    if (task.state !== 'waiting-for-retrieval' || !checkpoint?.retrieval) return END;
    const { tier, days } = parameters.retrieval;
    const status = await retrievalOfPaths(store, checkpoint.snapshot, parameters.paths, { tier, days });
    const retrieval = {
      ...checkpoint.retrieval,
      costUsd: checkpoint.retrieval.costUsd + status.estimate.costUsd,
    };
    const progress = this.progress(status, retrieval);
    const change = { checkpoint: { ...checkpoint, retrieval }, progress };
    if (status.pending === 0) {
      // running again, since it started (not since now)
      const { moved } = await this.lifecycle.move(task.id, 'running', {
        ...change,
        ...(task.startedAt && { startedAt: task.startedAt }),
      });
      return moved ? { next: 'restore', waitSeconds: 0 } : END;
    }
    if (this.now() >= retrieval.deadline) {
      await this.lifecycle.finish(task.id, 'failed', { progress, failure: timedOut(status, tier) });
      return END;
    }
    const saved = await this.repository.update(task.id, (t) =>
      t.state === 'waiting-for-retrieval' ? change : undefined,
    );
    return saved.written ? { next: 'wait', waitSeconds: waitSecondsFor(status) } : END;
  }

  /** Packs ready of those needed, their bytes, the time left and what was asked for cost. */
  private progress(status: RetrievalStatus, retrieval: RetrievalCheckpoint): TaskProgress {
    const elapsedHours = (this.now() - retrieval.startedAt) / HOUR_MS;
    const [min, max] = status.estimate.hours.map((h) => Math.max(0, h - elapsedHours)) as [number, number];
    const left = max === 0 ? 'any time now' : `typically ${typicalTime([min, max])} left`;
    const readyBytes = Math.round((status.bytes * status.ready) / Math.max(1, status.needed));
    return {
      unit: 'packs',
      done: status.ready,
      total: status.needed,
      bytesDone: readyBytes,
      bytesTotal: status.bytes,
      message: `retrieving from ${status.archives.join(', ')}: ${left}; requested so far: ${cost(retrieval.costUsd)}`,
      updatedAt: new Date(this.now()).toISOString(),
    };
  }
}

/** The failure of a retrieval that outlived its deadline: the packs still archived and what to do. */
function timedOut(status: RetrievalStatus, tier: string): TaskFailure {
  const listed = status.pendingPacks.slice(0, MAX_LISTED_PACKS);
  const more = status.pendingPacks.length - listed.length;
  return {
    code: 'RETRIEVAL_TIMED_OUT',
    message:
      `${status.pending} of ${status.needed} data pack(s) were still in archive storage at the deadline: ${listed.join(', ')}${more > 0 ? ` and ${more} more` : ''}. ` +
      `Their retrievals (${tier}) go on: start the restore again later with a longer retrieval.deadlineHours (what is retrieved meanwhile is not asked for twice), or ask for a faster tier`,
  };
}

/**
 * Two kinds of claim items that make task creation safe without transactions, each taken with a
 * conditional put:
 * - an idempotency key (`IDEMPOTENCY#principal#key`): the first request with a key claims it for
 *   its task; a repeat finds the claim and answers that task, or refuses when its request differs;
 * - a lease (`LEASE#key`) for task types that must not overlap on a store (or a destination): held
 *   by one task from creation until it ends; one left by a task that has ended is taken over.
 *   A task that someone other than its work ended (a cancel, a failed or stopped execution) may
 *   still be finishing its last unit of work (a Lambda runs on after its execution has ended):
 *   its lease holds until the work lets go of it, or for at most the longest a Lambda can live
 *   (task-lifecycle.ts).
 */
import { createHash } from 'node:crypto';
import type { Table } from '../data/table.js';
import { Conflict, Unprocessable } from '../errors.js';
import { STALE_CLAIM_MS } from '../store-apps/store-app-repository.js';
import { isFinal, type TaskRecord } from './task.js';
import type { TaskRepository } from './task-repository.js';

/** Lambda's time limit: no unit of a task's work (a slice, a backup's batch) outlives it. */
export const LAST_SLICE_MS = 15 * 60_000;

const keyOf = (principal: string, key: string) => ({ pk: `IDEMPOTENCY#${principal}#${key}`, sk: 'KEY' });
const leaseOf = (key: string) => ({ pk: `LEASE#${key}`, sk: 'LEASE' });

/** What makes two requests the same: the task type, the app and the validated parameters. */
export function requestFingerprint(request: { type: string; appId: string; parameters: unknown }): string {
  return createHash('sha256').update(JSON.stringify(request)).digest('base64url');
}

export type KeyClaim = { readonly claimed: true } | { readonly claimed: false; readonly task: TaskRecord };

export class TaskClaims {
  constructor(
    private readonly table: Table,
    private readonly tasks: TaskRepository,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Claims `key` for the task about to be created, or answers the task an earlier request with the
   * same key and the same fingerprint created. 422 when the key came with another request, 409 when
   * that request is still under way.
   */
  async claimKey(principal: string, key: string, fingerprint: string, taskId: string): Promise<KeyClaim> {
    const item = {
      ...keyOf(principal, key),
      taskId,
      fingerprint,
      claimedAt: new Date(this.now()).toISOString(),
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.table.putNew(item)) return { claimed: true };
      const held = await this.table.get(item.pk, item.sk);
      if (!held) continue;
      if (held.fingerprint !== fingerprint)
        throw new Unprocessable(
          'this Idempotency-Key was used with another request: send a new key for a new request',
          'IDEMPOTENCY_KEY_REUSED',
        );
      const task = await this.tasks.find(String(held.taskId));
      if (task) return { claimed: false, task };
      // a create that claimed the key and died before it wrote its task: take the key over
      const age = this.now() - Date.parse(String(held.claimedAt));
      if (age < STALE_CLAIM_MS)
        throw new Conflict(
          'a request with this Idempotency-Key is under way: retry in a minute',
          'REQUEST_IN_PROGRESS',
        );
      await this.table.delete(item.pk, item.sk, { taskId: String(held.taskId) });
    }
    throw new Conflict(
      'a request with this Idempotency-Key is under way: retry in a minute',
      'REQUEST_IN_PROGRESS',
    );
  }

  /** Frees a key whose request failed before its task existed, so that a retry may use it. */
  async releaseKey(principal: string, key: string, taskId: string): Promise<void> {
    await this.table.delete(keyOf(principal, key).pk, 'KEY', { taskId });
  }

  /** Takes the lease on `key` for the task; 409 STORE_BUSY while a task that has not ended holds it. */
  async lease(key: string, taskId: string, what: string): Promise<void> {
    const item = { ...leaseOf(key), taskId, leasedAt: new Date(this.now()).toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.table.putNew(item)) return;
      const held = await this.table.get(item.pk, item.sk);
      if (!held) continue;
      const holder = await this.tasks.find(String(held.taskId));
      const age = this.now() - Date.parse(String(held.leasedAt));
      if (holder?.workMayRunUntil !== undefined && this.now() < Date.parse(holder.workMayRunUntil))
        throw new Conflict(
          `${what} is busy: task ${holder.id} has ended (${holder.state}) but may still be finishing its last unit of work, at the latest until ${holder.workMayRunUntil}; retry then`,
          'STORE_BUSY',
        );
      // a holder that has ended left it (a release that failed), or never was written (a create that died)
      const left = holder ? isFinal(holder.state) : age >= STALE_CLAIM_MS;
      if (!left)
        throw new Conflict(
          `${what} is busy with task ${String(held.taskId)} (${holder?.type ?? 'being created'}): wait for it to end or cancel it`,
          'STORE_BUSY',
        );
      await this.table.delete(item.pk, item.sk, { taskId: String(held.taskId) });
    }
    throw new Conflict(`${what} is busy: retry`, 'STORE_BUSY');
  }

  /** Frees the lease, unless another task holds it by now. */
  async release(key: string, taskId: string): Promise<void> {
    await this.table.delete(leaseOf(key).pk, 'LEASE', { taskId });
  }
}

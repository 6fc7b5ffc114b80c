import { KlosetError } from '../core/errors.js';
import type { Repository } from '../repository/repository.js';
import { removeSnapshots } from '../rm/remove-snapshots.js';
import { loadSnapshots } from '../snapshot/snapshot-list.js';
import type { SnapshotRecord } from '../snapshot/snapshot-record.js';
import {
  type RetentionDecision,
  type RetentionPolicy,
  applyRetention,
  keepsNothing,
} from './retention-policy.js';

/** What makes snapshots one group: each group is retained on its own. */
export type GroupField = 'host' | 'sources' | 'tags';

export interface ForgetOptions {
  readonly policy: RetentionPolicy;
  /** default: host and sources */
  readonly groupBy?: readonly GroupField[];
  /** select and report, write nothing */
  readonly dryRun?: boolean;
  /** a policy without any rule forgets everything: refused unless this is set */
  readonly allowForgetAll?: boolean;
}

export interface ForgetGroup {
  readonly host?: string;
  readonly sources?: string[];
  readonly tags?: string[];
  /** newest first; a decision without reasons is a forgotten snapshot */
  readonly decisions: RetentionDecision<SnapshotRecord>[];
}

/**
 * Applies a retention policy to each group of snapshots and tombstones the snapshots no rule
 * keeps, as `rm` does: nothing is deleted until prune.
 */
export async function forgetSnapshots(repo: Repository, opts: ForgetOptions): Promise<ForgetGroup[]> {
  if (keepsNothing(opts.policy) && !opts.allowForgetAll) {
    throw new KlosetError('INVALID_ARGUMENT', 'this policy keeps no snapshot: give a --keep-* rule');
  }
  const fields = opts.groupBy ?? ['host', 'sources'];
  const groups = groupSnapshots(await loadSnapshots(repo), fields).map((members) => ({
    ...groupKey(members[0], fields),
    decisions: applyRetention(members, opts.policy),
  }));
  const forgotten = groups.flatMap((g) => g.decisions.filter((d) => d.reasons.length === 0));
  if (forgotten.length > 0) {
    await removeSnapshots(repo, { refs: forgotten.map((d) => d.snapshot.id), dryRun: opts.dryRun });
  }
  return groups;
}

function groupKey(s: SnapshotRecord, fields: readonly GroupField[]): Omit<ForgetGroup, 'decisions'> {
  return {
    ...(fields.includes('host') && { host: s.hostname }),
    ...(fields.includes('sources') && { sources: [...s.sources].sort() }),
    ...(fields.includes('tags') && { tags: [...s.tags].sort() }),
  };
}

function groupSnapshots(all: readonly SnapshotRecord[], fields: readonly GroupField[]): SnapshotRecord[][] {
  const groups = new Map<string, SnapshotRecord[]>();
  for (const s of all) {
    const key = JSON.stringify(groupKey(s, fields));
    const members = groups.get(key);
    if (members) members.push(s);
    else groups.set(key, [s]);
  }
  return [...groups.values()];
}

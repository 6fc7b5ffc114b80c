/** `kloud diff A[:PATH] B[:PATH]`: what changed between two snapshots, or two paths in them. */
import type { Command } from 'commander';
import type { Change, ChangeKind } from '../../layers/kloset/index.js';
import type { CommandContext } from '../context.js';
import { typedPath } from '../text/listing-text.js';
import { parseSnapshotPath } from '../snapshot-path.js';
import { withStore } from '../store-session.js';

/** restic's marks, and the words of the summary, in the order the summary lists them. */
const KINDS: Record<ChangeKind, { mark: string; summary: string }> = {
  added: { mark: '+', summary: 'added' },
  removed: { mark: '-', summary: 'removed' },
  modified: { mark: 'M', summary: 'modified' },
  metadata: { mark: 'U', summary: 'metadata only' },
  type: { mark: 'T', summary: 'type changed' },
};

export function registerDiffCommand(program: Command, ctx: CommandContext): void {
  program
    .command('diff')
    .description('show what was added, removed or changed between two snapshots, or two paths in them')
    .argument('<from>', 'SNAPSHOT[:PATH], the older side: latest, an ID or a unique prefix')
    .argument('<to>', 'SNAPSHOT[:PATH], the newer side')
    .addHelpText(
      'after',
      `
One line per change, a mark and a path (directories end with /):
  +  added      -  removed      M  content changed
  U  metadata only (mode, owner, time)      T  type changed (file, directory, symlink)
Whole snapshots compare under their absolute paths; with :PATH, paths are relative to it.
Unchanged directories are skipped without being read. A summary follows on stderr.
With --json, one change object per line (NDJSON): { path, change, type }, and no summary.

Examples:
  kloud diff 1a2b3c latest
  kloud diff 1a2b3c:/etc latest:/etc
  kloud at @home diff 1a2b3c latest --json | jq -r 'select(.change == "removed") | .path'`,
    )
    .action(async (from: string, to: string, _opts, command: Command) => {
      const sides = [parseSnapshotPath(from), parseSnapshotPath(to)] as const;
      const out = ctx.output(command);
      const counts = await withStore(ctx, command, async (store) => {
        const counts = new Map<ChangeKind, number>();
        for await (const change of store.diff(...sides)) {
          out.print(change, changeLine);
          counts.set(change.change, (counts.get(change.change) ?? 0) + 1);
        }
        return counts;
      });
      if (!out.json) out.note(describeCounts(counts));
    });
}

function changeLine(change: Change): string {
  return `${KINDS[change.change].mark} ${typedPath(change.path, change.type)}`;
}

/** `2 added, 1 modified`, in a fixed order; `no differences` when nothing changed. */
function describeCounts(counts: ReadonlyMap<ChangeKind, number>): string {
  const parts = (Object.keys(KINDS) as ChangeKind[])
    .filter((kind) => counts.has(kind))
    .map((kind) => `${counts.get(kind)} ${KINDS[kind].summary}`);
  return parts.length === 0 ? 'no differences' : parts.join(', ');
}

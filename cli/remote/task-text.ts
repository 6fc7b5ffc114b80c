/** How tasks of the control plane read in a terminal: one line each, their progress and outcome. */
import type { Task, TaskProgress } from '../../layers/control/tasks/task.js';
import { formatBytes, plural } from '../text/human-units.js';
import { terminalText } from '../text/name-text.js';

/** The results of each task type, as docs/API.md describes them (the API's `Task.result`). */
interface CheckResult {
  ok: boolean;
  problems: { message: string; snapshots?: string[]; paths?: string[]; advice?: string }[];
  notes?: string[];
}
interface SyncResult {
  copied: { from: string; to: string }[];
  skipped: number;
  bytesRead: number;
  newBytes: number;
  warnings?: string[];
}
interface RestoreResult {
  files: number;
  directories: number;
  bytes: number;
  errors: { path: string; message: string }[];
  destination: string;
  downloadUrl?: string;
  expiresAt?: string;
}
interface BackupResult {
  snapshot: string;
  files: number;
  dirs: number;
  bytes: number;
  filesRead: number;
  bytesRead: number;
  newBytes: number;
  batches: number;
  errors: { path: string; message: string }[];
  errorCount: number;
}

function when(iso: string | undefined): string {
  return iso === undefined ? '' : iso.slice(0, 19).replace('T', ' ');
}

export function progressText(progress: TaskProgress): string {
  const count = progress.total === undefined ? `${progress.done}` : `${progress.done}/${progress.total}`;
  const bytes =
    progress.bytesDone === undefined
      ? ''
      : `, ${formatBytes(progress.bytesDone)}${progress.bytesTotal === undefined ? '' : `/${formatBytes(progress.bytesTotal)}`}`;
  const added = progress.newBytes === undefined ? '' : ` (${formatBytes(progress.newBytes)} new)`;
  const message = progress.message === undefined ? '' : ` — ${terminalText(progress.message)}`;
  return `${count} ${progress.unit}${bytes}${added}${message}`;
}

/** `kloud remote tasks`: ID, type, state, app, when it was created, and how far it is. */
export function taskLine(task: Task): string {
  const progress = task.state === 'running' && task.progress ? `  ${progressText(task.progress)}` : '';
  const failure = task.failure ? `  ${task.failure.code}: ${terminalText(task.failure.message)}` : '';
  return `${task.id}  ${task.type.padEnd(7)}  ${task.state.padEnd(9)}  app ${task.appId}  ${when(task.createdAt)}${progress}${failure}`;
}

/** What a task-creating command prints when it does not wait. */
export function startedText(task: Task): string {
  return `${task.type} task ${task.id} ${task.state}\nfollow it with: kloud remote task ${task.id} --wait`;
}

/** `kloud remote task ID`: the whole task, and its outcome once it ended. */
export function taskText(task: Task): string {
  const lines = [
    `task:     ${task.id}`,
    `type:     ${task.type}`,
    `app:      ${task.appId}`,
    `state:    ${task.state}`,
    `by:       ${task.principal}`,
    `created:  ${when(task.createdAt)}`,
    ...(task.startedAt ? [`started:  ${when(task.startedAt)}`] : []),
    ...(task.endedAt ? [`ended:    ${when(task.endedAt)}`] : []),
    ...(task.progress && task.state === 'running' ? [`progress: ${progressText(task.progress)}`] : []),
    ...(task.failure ? [`failure:  ${task.failure.code}: ${terminalText(task.failure.message)}`] : []),
  ];
  const outcome = outcomeText(task);
  return outcome === '' ? lines.join('\n') : `${lines.join('\n')}\n${outcome}`;
}

/** The result of an ended task in a few lines (empty while it has none). */
export function outcomeText(task: Task): string {
  if (task.result === undefined) return '';
  switch (task.type) {
    case 'check':
      return checkText(task.result as unknown as CheckResult);
    case 'sync':
      return syncText(task.result as unknown as SyncResult);
    case 'restore':
      return restoreText(task.result as unknown as RestoreResult);
    case 'backup':
      return backupText(task.result as unknown as BackupResult);
  }
}

function checkText(result: CheckResult): string {
  const problems = result.problems.map((problem) => {
    const where = [
      ...(problem.snapshots?.length ? [`snapshots: ${problem.snapshots.join(', ')}`] : []),
      ...(problem.paths?.length ? [`paths: ${problem.paths.map(terminalText).join(', ')}`] : []),
    ];
    const advice = problem.advice ? ` — ${problem.advice}` : '';
    return `problem: ${terminalText(problem.message)}${where.length ? ` (${where.join('; ')})` : ''}${advice}`;
  });
  const notes = (result.notes ?? []).map((note) => `note: ${terminalText(note)}`);
  const verdict = result.ok ? 'no problems found' : `${plural(result.problems.length, 'problem')} found`;
  return [...problems, ...notes, verdict].join('\n');
}

function syncText(result: SyncResult): string {
  const copied = result.copied.map((c) => `copied ${c.from} as ${c.to}`);
  const warnings = (result.warnings ?? []).map((w) => `warning: ${terminalText(w)}`);
  const summary = `${plural(result.copied.length, 'snapshot')} copied, ${result.skipped} skipped; read ${formatBytes(result.bytesRead)}, added ${formatBytes(result.newBytes)}`;
  return [...copied, ...warnings, summary].join('\n');
}

function restoreText(result: RestoreResult): string {
  const errors = result.errors.map(
    (e) => `not restored: ${terminalText(e.path)}: ${terminalText(e.message)}`,
  );
  const summary = `restored ${plural(result.files, 'file')} and ${plural(result.directories, 'directory', 'directories')} (${formatBytes(result.bytes)}) to ${terminalText(result.destination)}`;
  const download = result.downloadUrl
    ? [
        `download: ${result.downloadUrl}`,
        ...(result.expiresAt ? [`(valid until ${when(result.expiresAt)} UTC)`] : []),
      ]
    : [];
  return [...errors, summary, ...download].join('\n');
}

function backupText(result: BackupResult): string {
  const errors = result.errors.map(
    (e) => `not backed up: ${terminalText(e.path)}: ${terminalText(e.message)}`,
  );
  const more =
    result.errorCount > result.errors.length
      ? [`and ${result.errorCount - result.errors.length} more errors: the snapshot lists them all`]
      : [];
  const summary = `snapshot ${result.snapshot.slice(0, 8)}: ${plural(result.files, 'file')} and ${plural(result.dirs, 'directory', 'directories')} (${formatBytes(result.bytes)}); read ${plural(result.filesRead, 'file')} (${formatBytes(result.bytesRead)}) in ${plural(result.batches, 'batch', 'batches')}, added ${formatBytes(result.newBytes)}`;
  return [...errors, ...more, summary].join('\n');
}

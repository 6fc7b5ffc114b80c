/**
 * The CLI's error policy: every failure reaches the user as one line, `error: <what> — <what to do>`,
 * and one of the documented exit codes.
 */
import { terminalText } from '../text/name-text.js';

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** Some files could not be read (the snapshot holds the rest), or a listing omits what it could not read. */
  partial: 3,
  /** `check` found damage in the store. */
  integrity: 4,
  /** The data is in archive storage (S3 Glacier): its retrieval was requested and is not done yet. */
  pending: 5,
  /** `kloud remote ... --wait`: the task ended failed (its failure says why). */
  taskFailed: 6,
  /** `kloud remote ... --wait`: the task was cancelled. */
  taskCancelled: 7,
  /** `kloud remote`: the control plane could not be reached (refused, unknown host, no answer in time). */
  unreachable: 8,
  /** `kloud remote ... --wait` stopped by Ctrl-C: the task goes on. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  /** A stable name for `--json` error documents; see `errorCode` for the default. */
  readonly code?: string;

  constructor(
    readonly what: string,
    readonly todo: string,
    readonly exitCode: ExitCode = EXIT.failure,
    options?: { cause?: unknown; code?: string },
  ) {
    super(what, options);
    this.name = 'CliError';
    if (options?.code !== undefined) this.code = options.code;
  }
}

export function usageError(what: string, todo: string): CliError {
  return new CliError(what, todo, EXIT.usage);
}

/** One line, whatever names the message holds (see terminalText). */
export function formatError(err: CliError): string {
  return `error: ${terminalText(err.what)} — ${err.todo}\n`;
}

/** Node's system errors a user's choice of path or place causes: what each means and what to do. */
const SYSTEM_ERRORS: Record<string, [reason: string, todo: string]> = {
  ENOENT: ['no such file or directory', 'check the path'],
  ENOTDIR: ['a part of the path is not a directory', 'check the path'],
  EISDIR: ['is a directory', 'give a file, not a directory'],
  EEXIST: ['already exists', 'choose another path, or move what is there away'],
  ENOTEMPTY: ['directory not empty', 'choose an empty directory'],
  ENAMETOOLONG: ['the name is too long', 'use a shorter path (file systems allow 255 bytes per name)'],
  ELOOP: ['too many levels of symbolic links', 'check the symbolic links along the path'],
  EACCES: ['permission denied', 'check its permissions, or run as a user allowed to use it'],
  EPERM: ['operation not permitted', 'check its permissions, or run as a user allowed to use it'],
  EROFS: ['read-only file system', 'choose a place on a writable file system'],
  ENOSPC: ['no space left on device', 'free some space, or choose another place'],
  EDQUOT: ['disk quota exceeded', 'free some space, or choose another place'],
  EMFILE: ['too many open files', 'raise the limit of open files (ulimit -n)'],
};

function systemError(code: string | undefined): [reason: string, todo: string] | undefined {
  return code !== undefined && Object.hasOwn(SYSTEM_ERRORS, code) ? SYSTEM_ERRORS[code] : undefined;
}

/** The message of a Node system error without its `ENOENT: ` prefix and syscall suffix. */
export function systemReason(err: unknown): string {
  const known = systemError((err as NodeJS.ErrnoException)?.code);
  if (known) return known[0];
  return err instanceof Error ? err.message : String(err);
}

/**
 * A system error caused by a path the user gave or chose (too long, not allowed, no space) as the
 * user error it is, naming the path; undefined for anything else.
 */
export function systemFailure(err: unknown): CliError | undefined {
  const { code, path, syscall } = (err ?? {}) as NodeJS.ErrnoException;
  const known = systemError(code);
  if (!known) return undefined;
  const what = path ? `${path}: ${known[0]}` : `${known[0]}${syscall ? ` (${syscall})` : ''}`;
  return new CliError(what, known[1], EXIT.failure, { cause: err, code });
}

/**
 * The CLI's error policy: every failure reaches the user as one line, `error: <what> — <what to do>`,
 * and one of the documented exit codes.
 */

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** Some files could not be read; the snapshot holds the rest. */
  partial: 3,
  /** `check` found damage in the store. */
  integrity: 4,
  /** The data is in archive storage (S3 Glacier): its retrieval was requested and is not done yet. */
  pending: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    readonly what: string,
    readonly todo: string,
    readonly exitCode: ExitCode = EXIT.failure,
    options?: { cause?: unknown },
  ) {
    super(what, options);
    this.name = 'CliError';
  }
}

export function usageError(what: string, todo: string): CliError {
  return new CliError(what, todo, EXIT.usage);
}

export function formatError(err: CliError): string {
  return `error: ${err.what} — ${err.todo}\n`;
}

/** The message of a Node system error without its `ENOENT: ` prefix and syscall suffix. */
export function systemReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'is a directory',
    ENOTDIR: 'not a directory',
    ENOSPC: 'no space left on device',
    EROFS: 'read-only file system',
  };
  if (code && reasons[code]) return reasons[code];
  return err instanceof Error ? err.message : String(err);
}

/**
 * The engine's typed errors as CLI errors: its message says what is wrong; this table adds what to
 * do and the exit code. Recognised by name, so commands that never load the engine stay fast.
 */
import type { KlosetErrorCode } from '../../layers/kloset/index.js';
import { CliError, EXIT, type ExitCode, systemFailure } from './errors.js';

const ADVICE: Record<KlosetErrorCode, [string, ExitCode]> = {
  STORE_EXISTS: ['use it as it is, or choose a new or empty directory', EXIT.failure],
  STORE_NOT_FOUND: ['check the location, or create a store with: kloud at LOCATION create', EXIT.failure],
  NOT_A_STORE: ['check the location', EXIT.failure],
  BUCKET_NOT_FOUND: ['create the bucket first (kloud does not), or check its name', EXIT.failure],
  WRONG_PASSPHRASE: ['check where the passphrase comes from (kloud --help, "Passphrase")', EXIT.failure],
  PASSPHRASE_REQUIRED: [
    'use --passphrase-file FILE, set KLOUD_PASSPHRASE, or run in a terminal',
    EXIT.failure,
  ],
  UNSUPPORTED_VERSION: ['upgrade kloud', EXIT.failure],
  CORRUPT: ['run kloud check to see what is damaged', EXIT.integrity],
  SNAPSHOT_NOT_FOUND: ['list the snapshots with: kloud ls', EXIT.failure],
  AMBIGUOUS_SNAPSHOT: ['give more characters of the snapshot ID', EXIT.failure],
  PATH_NOT_FOUND: ['list the snapshot with: kloud ls SNAPSHOT:/PATH', EXIT.failure],
  INVALID_ARGUMENT: ["see the command's --help", EXIT.usage],
  NOT_A_DIRECTORY: ['give a directory', EXIT.failure],
  UNSUPPORTED: ['use a local path, s3://bucket/prefix or sftp://[user@]host[:port]/path', EXIT.failure],
  LAST_KEY: ['add another passphrase first: kloud key add', EXIT.failure],
  ARCHIVED: [
    'retrieve the data first: kloud restore SNAPSHOT --to DIR asks for it (exit 5 until it is readable; --wait waits)',
    EXIT.failure,
  ],
  AUTH_FAILED: [
    'check the user and the identity (key file), identity_passphrase or password options',
    EXIT.failure,
  ],
  HOST_KEY_UNKNOWN: [
    'or, where verifying is not possible, set insecure_ignore_host_key=true (not recommended)',
    EXIT.failure,
  ],
  HOST_KEY_CHANGED: [
    "if the server's key was replaced on purpose, check the new fingerprint with its administrator, then remove the old key with: ssh-keygen -R HOST -f KNOWN_HOSTS",
    EXIT.failure,
  ],
  UNAVAILABLE: ['the service is failing or overloaded for now: try again later', EXIT.failure],
  IO: [
    'check that the location is reachable and writable (S3: its endpoint, region and credentials)',
    EXIT.failure,
  ],
};

interface EngineError extends Error {
  code: KlosetErrorCode;
}

export function isEngineError(err: unknown): err is EngineError {
  return err instanceof Error && err.name === 'KlosetError' && (err as EngineError).code in ADVICE;
}

/** The engine error as a CLI error; `what` replaces the engine's message (to name the place as typed). */
export function fromEngineError(err: EngineError, what = err.message): CliError {
  const [todo, exitCode] = ADVICE[err.code];
  // a local write that failed for a reason of the disk (no space, read-only): its own advice
  const system = err.code === 'IO' ? systemFailure(err.cause) : undefined;
  return new CliError(what, system?.todo ?? todo, exitCode, { cause: err });
}

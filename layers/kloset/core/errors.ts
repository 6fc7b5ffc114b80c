/**
 * Typed engine errors. Every error a caller can act on carries a stable `code` and a one-line
 * message saying what is wrong; callers (CLI, handlers) map codes to exit codes or HTTP status.
 */
export type KlosetErrorCode =
  | 'STORE_EXISTS'
  | 'STORE_NOT_FOUND'
  /** the bucket (or other container) that would hold the store does not exist; kloud never creates one */
  | 'BUCKET_NOT_FOUND'
  | 'NOT_A_STORE'
  | 'WRONG_PASSPHRASE'
  | 'PASSPHRASE_REQUIRED'
  | 'UNSUPPORTED_VERSION'
  | 'CORRUPT'
  | 'SNAPSHOT_NOT_FOUND'
  | 'AMBIGUOUS_SNAPSHOT'
  | 'PATH_NOT_FOUND'
  | 'INVALID_ARGUMENT'
  | 'NOT_A_DIRECTORY'
  | 'UNSUPPORTED'
  | 'LAST_KEY'
  /** data is in archive storage (S3 Glacier) and has not been retrieved (yet) */
  | 'ARCHIVED'
  /** the server refused every credential given (SFTP: key, password, agent) */
  | 'AUTH_FAILED'
  /** the server's host key is not in known_hosts */
  | 'HOST_KEY_UNKNOWN'
  /** known_hosts holds another key for the server (or marks its key revoked): refused */
  | 'HOST_KEY_CHANGED'
  /** the service kept failing (HTTP 5xx, throttling, dropped connections) after every retry: transient */
  | 'UNAVAILABLE'
  | 'IO';

/** The objects read before a store opens: damage to them stops the open itself. */
export type AccessObject = 'config' | 'key slot';

export class KlosetError extends Error {
  readonly code: KlosetErrorCode;
  /** CORRUPT errors that stop a store from opening: which object is damaged */
  readonly object?: AccessObject;

  constructor(code: KlosetErrorCode, message: string, options?: { cause?: unknown; object?: AccessObject }) {
    super(message, options);
    this.name = 'KlosetError';
    this.code = code;
    if (options?.object) this.object = options.object;
  }
}

export function corrupt(message: string, cause?: unknown, object?: AccessObject): KlosetError {
  return new KlosetError('CORRUPT', message, { cause, object });
}

/** Marks a CORRUPT error as damage to an object the store cannot open without. */
export function damagedAccessObject(err: unknown, object: AccessObject): unknown {
  return err instanceof KlosetError && err.code === 'CORRUPT' && !err.object
    ? corrupt(err.message, err.cause, object)
    : err;
}

/** The text of anything thrown, for messages and error records. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Node's system error codes (ENOENT, EACCES...) without an unsafe cast at every call site. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

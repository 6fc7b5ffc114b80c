import ssh2 from 'ssh2';
import { KlosetError, errnoCode } from '../../core/errors.js';

/** SFTP v3 status codes (draft-ietf-secsh-filexfer-02 §7), as ssh2 sets them on request errors. */
const STATUS = ssh2.utils.sftp.STATUS_CODE;

interface Ssh2Error {
  code?: unknown;
  level?: string;
  message?: string;
}

const asSsh2Error = (err: unknown): Ssh2Error =>
  typeof err === 'object' && err !== null ? (err as Ssh2Error) : { message: String(err) };

/** The SFTP status of a failed request, looking through the KlosetError that wraps it. */
function sftpStatus(err: unknown): number | undefined {
  const cause = err instanceof KlosetError ? err.cause : err;
  const code = asSsh2Error(cause).code;
  return typeof code === 'number' ? code : undefined;
}

export const isNoSuchFile = (err: unknown): boolean => sftpStatus(err) === STATUS.NO_SUCH_FILE;

/** A failed request as an IO error naming the action and the remote path. */
export function requestFailure(err: unknown, action: string, path: string, where: string): KlosetError {
  if (err instanceof KlosetError) return err;
  const status = sftpStatus(err);
  const reason =
    status === STATUS.NO_SUCH_FILE
      ? 'no such file or directory'
      : status === STATUS.PERMISSION_DENIED
        ? 'permission denied'
        : (asSsh2Error(err).message ?? 'failed');
  return new KlosetError('IO', `${action} ${path} on ${where}: ${reason}`, { cause: err });
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
]);

/**
 * Why a connection could not be made, in one line. `endpoint` is `host:port`; `offered` lists
 * the credentials tried (never their values).
 */
export function connectFailure(
  err: unknown,
  endpoint: string,
  user: string,
  offered: readonly string[],
): KlosetError {
  if (err instanceof KlosetError) return err;
  const e = asSsh2Error(err);
  const code = errnoCode(err);
  const opts = { cause: err };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new KlosetError('IO', `cannot resolve the host name of ${endpoint} (${code})`, opts);
  if (code && UNREACHABLE.has(code)) return new KlosetError('IO', `cannot reach ${endpoint} (${code})`, opts);
  if (e.level === 'client-timeout')
    return new KlosetError('IO', `${endpoint} did not complete the SSH handshake in time`, opts);
  if (e.level === 'client-authentication')
    return new KlosetError(
      'AUTH_FAILED',
      `${endpoint} refused the credentials for user ${user} (offered: ${offered.join(', ')})`,
      opts,
    );
  return new KlosetError('IO', `SSH connection to ${endpoint} failed: ${e.message ?? 'unknown error'}`, opts);
}

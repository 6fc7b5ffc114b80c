/**
 * The engine's error codes as API answers, in one table: the engine's message says what is wrong
 * (one line, no secret), this table adds the HTTP status and what to do about it.
 */
import type { KlosetErrorCode } from '../../kloset/index.js';
import { ApiError } from '../errors.js';
import { KlosetError } from './kloset-adapter.js';

const ANSWERS: Record<KlosetErrorCode, [status: number, advice: string]> = {
  STORE_EXISTS: [409, 'test the connection to use the store that is there, or choose another location'],
  STORE_NOT_FOUND: [422, 'check the location, or initialize a store there'],
  BUCKET_NOT_FOUND: [422, 'create the bucket first (kloud does not), or check its name and region'],
  NOT_A_STORE: [409, 'that data is not a Kloset store: choose another prefix or path'],
  NOT_A_DIRECTORY: [422, 'give a directory'],
  UNSUPPORTED: [422, 'the location is not one kloud can use'],
  WRONG_PASSPHRASE: [422, 'update the app with the passphrase the store was created with'],
  PASSPHRASE_REQUIRED: [422, "update the app with the store's passphrase"],
  UNSUPPORTED_VERSION: [422, 'the store was written by a newer kloud: upgrade the deployment'],
  CORRUPT: [422, 'run kloud check on the store to see what is damaged'],
  SNAPSHOT_NOT_FOUND: [404, 'list the snapshots first'],
  AMBIGUOUS_SNAPSHOT: [422, 'give more characters of the snapshot ID'],
  PATH_NOT_FOUND: [404, 'check the path inside the snapshot'],
  INVALID_ARGUMENT: [422, "check the app's configuration"],
  LAST_KEY: [409, 'add another passphrase first'],
  ARCHIVED: [409, 'retrieve the data from archive storage first'],
  AUTH_FAILED: [422, "check the app's credentials (user, private key or password)"],
  HOST_KEY_UNKNOWN: [422, 'register the server again with its current host key (ssh-keyscan HOST prints it)'],
  HOST_KEY_CHANGED: [
    422,
    "the server's key is not the registered one: if it was replaced on purpose, check the new fingerprint with its administrator and register the server again",
  ],
  UNAVAILABLE: [503, 'the storage service kept failing through every retry: try again later'],
  IO: [
    422,
    "check that the location is reachable and that the app's credentials may read and write it (S3: endpoint, region, credentials)",
  ],
};

export function isKlosetError(err: unknown): err is KlosetError {
  return err instanceof KlosetError;
}

export function engineAdvice(code: KlosetErrorCode): string {
  return ANSWERS[code][1];
}

/** The engine error as the API's answer: its code, its message and the advice. */
export function engineAnswer(err: KlosetError): ApiError {
  const [status, advice] = ANSWERS[err.code];
  return new ApiError(status, err.code, `${err.message}: ${advice}`);
}

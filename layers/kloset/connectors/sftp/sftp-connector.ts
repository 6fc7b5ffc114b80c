import { posix } from 'node:path';
import { KlosetError } from '../../core/errors.js';
import { isUtf8Name } from '../../core/byte-names.js';
import { type SftpSettings, parseSftpLocation } from './sftp-options.js';
import { SftpSession } from './sftp-session.js';
import type { SftpLocation } from '../../core/location.js';

/**
 * What the SFTP store, source and destination share: the parsed location, the directory their
 * paths hang from, and one session (connected on first use, closed by `close`).
 */
export abstract class SftpConnector {
  readonly location: string;
  protected readonly settings: SftpSettings;
  /** the location's path: absolute, or relative to the login directory */
  protected readonly root: string;
  protected readonly session: SftpSession;

  constructor(location: SftpLocation) {
    this.settings = parseSftpLocation(location);
    this.location = this.settings.location;
    this.root = this.settings.path;
    this.session = new SftpSession(this.settings);
  }

  /**
   * The server's path of a path below the root (`''` and `/` are the root itself). ssh2 sends
   * paths as UTF-8 only: a path holding bytes that are not UTF-8 cannot be named.
   */
  protected remote(path: string): string {
    if (!isUtf8Name(path)) throw notUtf8('the name');
    return posix.join(this.root, path).replace(/(?<=.)\/$/, '');
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}

/** Why a name or link target that is not UTF-8 cannot cross an SFTP connection. */
export function notUtf8(what: string): KlosetError {
  return new KlosetError(
    'UNSUPPORTED',
    `${what} is not UTF-8, and kloud sends SFTP names as UTF-8 only (the ssh2 library)`,
  );
}

import { posix } from 'node:path';
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

  /** The server's path of a path below the root (`''` and `/` are the root itself). */
  protected remote(path: string): string {
    return posix.join(this.root, path).replace(/(?<=.)\/$/, '');
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}

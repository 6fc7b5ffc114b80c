import { posix } from 'node:path';
import ssh2, {
  type Client,
  type FileEntryWithStats,
  type InputAttributes,
  type SFTPWrapper,
  type Stats,
} from 'ssh2';
import { Semaphore, mapLimit } from '../../core/concurrency.js';
import { KlosetError } from '../../core/errors.js';
import { HostKeyCheck } from './host-key-check.js';
import { credentialsFor } from './sftp-auth.js';
import { connectFailure, isNoSuchFile, requestFailure } from './sftp-errors.js';
import type { SftpSettings } from './sftp-options.js';
import { rangeTarget } from '../../core/store-backend.js';

/** Bound on the TCP connect plus the SSH handshake and authentication. */
const CONNECT_TIMEOUT_MS = 20_000;
/** SSH keepalives: a server that stops answering fails the next request instead of hanging it. */
const KEEPALIVE_INTERVAL_MS = 15_000;
const KEEPALIVE_COUNT_MAX = 4;
/** Requests outstanding on the channel: enough to hide the round trip, bounded for the server's sake. */
const REQUESTS_IN_FLIGHT = 64;
/**
 * Bytes per READ or WRITE request: OpenSSH's sftp-server takes at most 255 KiB (it says so in
 * limits@openssh.com); ssh2 splits larger ones into sequential requests, which is what we avoid.
 */
const BLOCK = 255 * 1024;
/** Blocks of one transfer in flight at once. */
const BLOCKS_IN_FLIGHT = 8;

type Done<T> = (err: Error | null | undefined, value?: T) => void;

/**
 * One SSH connection and SFTP channel, opened at the first request and shared by all of a
 * connector's requests: the server's host key is checked against known_hosts before any
 * credential is sent, at most REQUESTS_IN_FLIGHT requests are outstanding, and every failure
 * becomes a KlosetError naming the remote path. `close` ends the connection so the process can exit.
 */
export class SftpSession {
  /** `host:port`, for messages */
  readonly endpoint: string;
  private readonly slots = new Semaphore(REQUESTS_IN_FLIGHT);
  private connection?: Promise<{ client: Client; sftp: SFTPWrapper }>;
  /** why the connection ended under us: every later request fails with it */
  private lost?: KlosetError;
  /** close() is final: a late request (a handle closed in the background) must not reconnect */
  private closed = false;

  constructor(readonly settings: SftpSettings) {
    const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
    this.endpoint = `${host}:${settings.port}`;
  }

  private connected(): Promise<{ client: Client; sftp: SFTPWrapper }> {
    if (this.closed)
      return Promise.reject(new KlosetError('IO', `the connection to ${this.endpoint} is closed`));
    if (this.lost) return Promise.reject(this.lost);
    this.connection ??= this.connect();
    return this.connection;
  }

  private async connect(): Promise<{ client: Client; sftp: SFTPWrapper }> {
    const s = this.settings;
    const check = s.insecureIgnoreHostKey ? undefined : await HostKeyCheck.load(s);
    const { methods, offered } = await credentialsFor(s);
    const client = new ssh2.Client();
    let refused: KlosetError | undefined;
    return new Promise((resolve, reject) => {
      const fail = (err: unknown) => {
        client.removeListener('close', closedEarly);
        client.on('error', () => undefined); // late socket errors of a connection we gave up on
        client.end();
        reject(refused ?? connectFailure(err, this.endpoint, s.user, offered));
      };
      const closedEarly = () => fail(new Error('the server closed the connection'));
      client.once('error', fail);
      client.once('close', closedEarly);
      client.once('ready', () =>
        client.sftp((err, sftp) => {
          if (err) return fail(new Error(`no SFTP service (${err.message})`));
          client.removeListener('error', fail);
          client.removeListener('close', closedEarly);
          const connection = this.connection;
          // once close() has let go of this connection, its end is no loss
          const markLost = (why: string) => {
            if (this.connection === connection)
              this.lost ??= new KlosetError('IO', `connection to ${this.endpoint} lost (${why})`);
          };
          client.on('error', (e: Error) => markLost(e.message));
          client.on('close', () => markLost('closed by the server'));
          resolve({ client, sftp });
        }),
      );
      client.connect({
        host: s.host,
        port: s.port,
        username: s.user,
        authHandler: methods,
        readyTimeout: CONNECT_TIMEOUT_MS,
        keepaliveInterval: KEEPALIVE_INTERVAL_MS,
        keepaliveCountMax: KEEPALIVE_COUNT_MAX,
        ...(check && {
          algorithms: { serverHostKey: check.algorithms() },
          hostVerifier: (key: Buffer) => {
            refused = check.verify(key);
            return refused === undefined;
          },
        }),
      });
    });
  }

  /** One request, in a slot; its failure as a KlosetError naming `action` and `path`. */
  private async call<T>(
    action: string,
    path: string,
    send: (sftp: SFTPWrapper, done: Done<T>) => void,
  ): Promise<T> {
    const { sftp } = await this.connected();
    return this.slots.run(
      () =>
        new Promise<T>((resolve, reject) => {
          const done: Done<T> = (err, value) => {
            if (err) reject(this.lost ?? requestFailure(err, action, path, this.settings.location));
            else resolve(value as T);
          };
          try {
            send(sftp, done);
          } catch (err) {
            done(err instanceof Error ? err : new Error(String(err)));
          }
        }),
    );
  }

  /**
   * An OpenSSH extension request; false when the server does not offer the extension (ssh2
   * then throws before sending anything).
   */
  private async extension(action: string, path: string, send: (sftp: SFTPWrapper, done: Done<void>) => void) {
    let offered = true;
    await this.call<void>(action, path, (sftp, done) => {
      try {
        send(sftp, done);
      } catch {
        offered = false;
        done(undefined);
      }
    });
    return offered;
  }

  open(path: string, flags: 'r' | 'wx', mode = 0o600): Promise<Buffer> {
    return this.call('open', path, (sftp, done) => sftp.open(path, flags, { mode }, done));
  }

  closeHandle(handle: Buffer, path: string): Promise<void> {
    return this.call('close', path, (sftp, done) => sftp.close(handle, done));
  }

  /** Bytes from `position`, several blocks in flight; shorter than `length` only at the end of the file. */
  /** `length` bytes at `position`, into `into` when it is given and large enough. */
  async readAt(
    handle: Buffer,
    path: string,
    position: number,
    length: number,
    into?: Buffer,
  ): Promise<Buffer> {
    const out = rangeTarget(length, into);
    const starts: number[] = [];
    for (let at = 0; at < length; at += BLOCK) starts.push(at);
    const counts = await mapLimit(starts, BLOCKS_IN_FLIGHT, (at) =>
      this.readBlock(handle, path, out, at, Math.min(BLOCK, length - at), position + at),
    );
    let total = 0;
    for (const n of counts) {
      total += n;
      if (n < BLOCK) break;
    }
    return total === length ? out : out.subarray(0, total);
  }

  /** One block; a server may answer with fewer bytes than asked, so read on until full or EOF. */
  private async readBlock(
    handle: Buffer,
    path: string,
    out: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<number> {
    let filled = 0;
    while (filled < length) {
      const n = await this.call<number>('read', path, (sftp, done) =>
        sftp.read(handle, out, offset + filled, length - filled, position + filled, done),
      );
      if (n === 0) break;
      filled += n;
    }
    return filled;
  }

  /** Writes `parts` one after another from `position`, several blocks in flight. */
  async writeAt(handle: Buffer, path: string, parts: readonly Buffer[], position = 0): Promise<void> {
    const pieces: { data: Buffer; at: number }[] = [];
    let at = position;
    for (const part of parts) {
      for (let o = 0; o < part.length; o += BLOCK)
        pieces.push({ data: part.subarray(o, o + BLOCK), at: at + o });
      at += part.length;
    }
    await mapLimit(pieces, BLOCKS_IN_FLIGHT, ({ data, at }) =>
      this.call<void>('write', path, (sftp, done) => sftp.write(handle, data, 0, data.length, at, done)),
    );
  }

  /** A whole file's bytes (as many as its size says when it was opened). */
  async readFile(path: string): Promise<Buffer> {
    const handle = await this.open(path, 'r');
    try {
      const { size } = await this.call<Stats>('stat', path, (sftp, done) => sftp.fstat(handle, done));
      return await this.readAt(handle, path, 0, size);
    } finally {
      await this.closeHandle(handle, path).catch(() => undefined);
    }
  }

  /**
   * Creates `path` (never replacing anything), lets `fill` write it through its handle, closes
   * it; when any of that fails, removes what was created and rethrows.
   */
  async createFile(path: string, fill: (handle: Buffer) => Promise<void>): Promise<void> {
    const handle = await this.open(path, 'wx');
    let failure: { err: unknown } | undefined;
    await fill(handle).catch((err: unknown) => (failure = { err }));
    await this.closeHandle(handle, path).catch((err: unknown) => (failure ??= { err }));
    if (failure) {
      await this.unlink(path).catch(() => undefined);
      throw failure.err;
    }
  }

  /** Flushes a written file to the server's disk, where the server offers fsync@openssh.com. */
  async fsync(handle: Buffer, path: string): Promise<void> {
    await this.extension('fsync', path, (sftp, done) => sftp.ext_openssh_fsync(handle, done));
  }

  stat(path: string): Promise<Stats> {
    return this.call('stat', path, (sftp, done) => sftp.stat(path, done));
  }

  lstat(path: string): Promise<Stats> {
    return this.call('lstat', path, (sftp, done) => sftp.lstat(path, done));
  }

  /** A directory's entries (with lstat attributes), without `.` and `..`. */
  async readdir(path: string): Promise<FileEntryWithStats[]> {
    const list = await this.call<FileEntryWithStats[]>('list', path, (sftp, done) =>
      sftp.readdir(path, done),
    );
    return list.filter((e) => e.filename !== '.' && e.filename !== '..');
  }

  readlink(path: string): Promise<string> {
    return this.call('readlink', path, (sftp, done) => sftp.readlink(path, done));
  }

  /** SFTP v3 rename: fails where `to` exists (OpenSSH links, then unlinks `from`). */
  rename(from: string, to: string): Promise<void> {
    return this.call('rename', to, (sftp, done) => sftp.rename(from, to, done));
  }

  /** rename(2), replacing `to`; false when the server lacks posix-rename@openssh.com. */
  replace(from: string, to: string): Promise<boolean> {
    return this.extension('rename', to, (sftp, done) => sftp.ext_openssh_rename(from, to, done));
  }

  /** link(2); false when the server lacks hardlink@openssh.com. */
  hardlink(existing: string, path: string): Promise<boolean> {
    return this.extension('link', path, (sftp, done) => sftp.ext_openssh_hardlink(existing, path, done));
  }

  unlink(path: string): Promise<void> {
    return this.call('remove', path, (sftp, done) => sftp.unlink(path, done));
  }

  mkdir(path: string, mode = 0o700): Promise<void> {
    return this.call('create directory', path, (sftp, done) => sftp.mkdir(path, { mode }, done));
  }

  /** mkdir -p: creates `path` and its missing parents; an existing directory is fine. */
  async mkdirp(path: string): Promise<void> {
    if ((await this.tryMkdir(path)) !== 'no parent') return;
    await this.mkdirp(posix.dirname(path));
    if ((await this.tryMkdir(path)) === 'no parent') await this.mkdir(path);
  }

  private async tryMkdir(path: string): Promise<'made' | 'exists' | 'no parent'> {
    try {
      await this.mkdir(path, 0o755);
      return 'made';
    } catch (err) {
      if (isNoSuchFile(err) && posix.dirname(path) !== path) return 'no parent';
      // SFTP v3 has no "already exists" status: look
      const st = await this.stat(path).catch(() => undefined);
      if (st?.isDirectory()) return 'exists';
      if (st)
        throw new KlosetError('NOT_A_DIRECTORY', `${path} on ${this.settings.location} is not a directory`);
      throw err;
    }
  }

  symlink(target: string, path: string): Promise<void> {
    return this.call('create symbolic link', path, (sftp, done) => sftp.symlink(target, path, done));
  }

  setstat(path: string, attrs: InputAttributes): Promise<void> {
    return this.call('set attributes of', path, (sftp, done) => sftp.setstat(path, attrs, done));
  }

  fsetstat(handle: Buffer, path: string, attrs: InputAttributes): Promise<void> {
    return this.call('set attributes of', path, (sftp, done) => sftp.fsetstat(handle, attrs, done));
  }

  /** setstat without following a symbolic link; false when the server lacks lsetstat@openssh.com. */
  lsetstat(path: string, attrs: InputAttributes): Promise<boolean> {
    return this.extension('set attributes of', path, (sftp, done) =>
      sftp.ext_openssh_lsetstat(path, attrs, done),
    );
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.closed = true;
    const open = await connection?.catch(() => undefined);
    if (!open) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        open.client.destroy();
        resolve();
      }, 2000);
      open.client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      open.client.end();
    });
  }
}

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { removeTempDirs, tempDir } from '../../fixtures.js';

const SSHD = '/usr/sbin/sshd';
const START_TIMEOUT_MS = 10_000;
const run = promisify(execFile);

export interface SshdHandle {
  readonly port: number;
  /** a temp directory the tests may use for their own files */
  readonly dir: string;
  /** the user the server runs as, the one the tests log in as */
  readonly user: string;
  /** `sftp://USER@127.0.0.1:PORT` */
  readonly url: string;
  /** the server's host keys as known_hosts lines (`[127.0.0.1]:PORT TYPE BASE64`) */
  readonly knownHostsLines: { readonly ed25519: string; readonly ecdsa: string };
  /** connector options that reach this server: the client key and a known_hosts with its keys */
  readonly options: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Generates an unencrypted (or `passphrase`-encrypted) key pair; returns the private key's path.
 * An encrypted key gets one KDF round, not 16: ssh2 decrypts in JavaScript, and slowly.
 */
export async function keyPair(dir: string, name: string, type = 'ed25519', passphrase = ''): Promise<string> {
  const path = join(dir, name);
  const rounds = passphrase ? ['-a', '1'] : [];
  await run('/usr/bin/ssh-keygen', ['-q', '-t', type, '-N', passphrase, ...rounds, '-C', name, '-f', path]);
  return path;
}

/** A port on 127.0.0.1 that nothing listens on right now: bound, then released. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Debian's OpenSSH server on 127.0.0.1, in the foreground, with a temp configuration: its own
 * ed25519 and ECDSA host keys, one authorized client key, the in-process SFTP server, running as
 * the current user (root in CI, hence PermitRootLogin).
 */
export async function startSshd(): Promise<SshdHandle> {
  const dir = await tempDir('kloud-sshd-');
  const [hostEd25519, hostEcdsa, clientKey] = await Promise.all([
    keyPair(dir, 'host_ed25519'),
    keyPair(dir, 'host_ecdsa', 'ecdsa'),
    keyPair(dir, 'client_ed25519'),
  ]);
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${clientKey}.pub`));
  // sshd refuses to start without its privilege separation directory (the package creates it at boot)
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const { child, port } = await launch(dir, [hostEd25519, hostEcdsa]);

  const hostLine = async (key: string) =>
    `[127.0.0.1]:${port} ${(await readFile(`${key}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ')}`;
  const knownHostsLines = { ed25519: await hostLine(hostEd25519), ecdsa: await hostLine(hostEcdsa) };
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, `${knownHostsLines.ed25519}\n${knownHostsLines.ecdsa}\n`);
  const user = userInfo().username;
  return {
    port,
    dir,
    user,
    url: `sftp://${user}@127.0.0.1:${port}`,
    knownHostsLines,
    options: { identity: clientKey, known_hosts: knownHosts },
    stop: () => stopChild(child),
  };
}

/** The free port may be taken between our probe and sshd's bind: then another one is tried. */
const LAUNCH_ATTEMPTS = 3;

async function launch(dir: string, hostKeys: string[]): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    await writeFile(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        ...hostKeys.map((key) => `HostKey ${key}`),
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'StrictModes no',
        'UsePAM no',
        'PermitRootLogin yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'Subsystem sftp internal-sftp',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    try {
      await waitForPort(child, port, () => log);
      return { child, port };
    } catch (err) {
      if (attempt === LAUNCH_ATTEMPTS || !/Address already in use/.test(log)) throw err;
    }
  }
}

async function waitForPort(child: ChildProcess, port: number, log: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null) throw new Error(`sshd exited with code ${child.exitCode}: ${log()}`);
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`sshd did not listen on ${port} within ${START_TIMEOUT_MS} ms: ${log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * sshd for one test file: started before its tests, stopped after them (with the fixtures' temp
 * dirs). Read `server` inside tests, once started.
 */
export function sshdForTests(): { readonly server: SshdHandle } {
  let server: SshdHandle | undefined;
  beforeAll(async () => {
    server = await startSshd();
  });
  afterAll(async () => {
    await server?.stop();
    await removeTempDirs();
  });
  return {
    get server() {
      return server!;
    },
  };
}

/**
 * Local mode as a user runs it: `node dist/local/start.js` in a child process on port 0, every
 * line it prints kept, and an API client that keeps every answer (to look for secrets in both).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CreateOptions, createStore, openStore } from '../../layers/kloset/index.js';
import { fileURLToPath } from 'node:url';

const START = fileURLToPath(new URL('../../dist/local/start.js', import.meta.url));
/**
 * A bound on the start (a synth of the workflows, their validation): ~5 s on an idle machine, and
 * it took more than 30 s on a loaded one, where a test must not fail for being slow (within the
 * 120 s jest gives a beforeAll).
 */
const START_TIMEOUT_MS = 90_000;

export interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export class LocalMode {
  /** everything the process printed, stdout and stderr */
  output = '';
  url = '';
  s3Endpoint = '';
  token = '';
  /** the text of every answer received */
  readonly answers: string[] = [];
  private child!: ChildProcess;

  constructor(
    private readonly dataDir: string,
    private readonly args: string[],
    /** more environment for the process (e.g. KLOUD_TASK_SLICE_MS) */
    private readonly env: Record<string, string> = {},
  ) {}

  async start(): Promise<void> {
    this.child = spawn(process.execPath, [START, '--port', '0', '--data-dir', this.dataDir, ...this.args], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: this.dataDir,
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`local mode did not start:\n${this.output}`)),
        START_TIMEOUT_MS,
      );
      const collect = (chunk: Buffer) => {
        this.output += chunk.toString();
        const url = /^url: +(http:\S+)$/m.exec(this.output)?.[1];
        if (url && this.output.includes('Ctrl-C stops')) {
          clearTimeout(timer);
          this.url = url;
          this.s3Endpoint = /^S3: +(http:\S+)/m.exec(this.output)?.[1] ?? '';
          resolve();
        }
      };
      this.child.stdout!.on('data', collect);
      this.child.stderr!.on('data', collect);
      this.child.on('exit', (code) => reject(new Error(`local mode exited with ${code}:\n${this.output}`)));
    });
    await ready;
    this.token = (await readFile(`${this.dataDir}/token`, 'utf8')).trim();
  }

  /** SIGTERM, and the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    return code;
  }

  /**
   * Registers the store already at `directories/backups/NAME` as a store app of that name and
   * tests it: a store is found there and the app is ready. Answers its ID.
   */
  async readyDirectoryApp(name: string, passphrase: string): Promise<string> {
    const created = await this.call('POST', '/store-apps', {
      resourceId: 'directory:backups',
      name,
      storageType: 'standard',
      configuration: { path: name },
      passphrase,
    });
    if (created.status !== 201) throw new Error(`app ${name} not created: ${JSON.stringify(created.body)}`);
    const tested = await this.call('POST', `/store-apps/${created.body.id}/test`);
    if (tested.body?.outcome !== 'store' || tested.body.app?.state !== 'ready')
      throw new Error(`app ${name} is not a ready store: ${JSON.stringify(tested.body)}`);
    return created.body.id as string;
  }

  /**
   * A store of `rounds` backups made by the engine at `directories/backups/NAME`, the source
   * changed by `change` before each, registered as a ready app (readyDirectoryApp). Answers the
   * app's ID, the store's folder and its snapshots, oldest first.
   */
  async directoryAppWithBackups(
    name: string,
    passphrase: string,
    rounds: number,
    change: (source: string, round: number) => Promise<void>,
    create: Omit<CreateOptions, 'passphrase'> = {},
  ): Promise<{ appId: string; storeDir: string; snapshots: string[] }> {
    const storeDir = join(this.dataDir, 'directories', 'backups', name);
    const source = join(this.dataDir, 'sources', name);
    await mkdir(source, { recursive: true });
    await createStore(storeDir, { ...create, passphrase });
    const store = await openStore(storeDir, { passphrase });
    const snapshots: string[] = [];
    try {
      for (let round = 0; round < rounds; round++) {
        await change(source, round);
        snapshots.push((await store.backup([source])).snapshot!.id);
      }
    } finally {
      await store.close();
    }
    return { appId: await this.readyDirectoryApp(name, passphrase), storeDir, snapshots };
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${this.token}` },
  ): Promise<Answer> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    this.answers.push(text);
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }
}

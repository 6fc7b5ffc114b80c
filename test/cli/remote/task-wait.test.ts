/**
 * `--wait` as a CI job sees it, with the real CLI against a server on loopback that plays a task's
 * states in order (the task routes' own end-to-end test is test/cli/remote-tasks.test.ts): the exit
 * code of each ending, the lines in a log, the wait's time limit, and Ctrl-C leaving the task alone.
 */
import { createServer, type Server } from 'node:http';
import { interruptedRun } from './interrupted.js';
import { Sandbox } from '../sandbox.js';

const APP = '0f6e2c4a-1b3d-4e5f-8a9b-0c1d2e3f4a5b';

/** The states each task ID goes through, one per GET; the last one stays. */
const plays: Record<string, Record<string, unknown>[]> = {};
const polls: Record<string, number> = {};

function task(id: string, state: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    type: 'check',
    appId: APP,
    parameters: {},
    state,
    principal: 'local',
    createdAt: '2026-12-06T03:00:00.000Z',
    ...extra,
  };
}

let sandbox: Sandbox;
let server: Server;
let url = '';

beforeAll(async () => {
  sandbox = await Sandbox.create();
  server = createServer((req, res) => {
    const id = /^\/tasks\/([\w-]+)$/.exec(req.url!)?.[1];
    res.setHeader('content-type', 'application/json');
    if (!id || !plays[id])
      return res
        .writeHead(404)
        .end(JSON.stringify({ error: { code: 'TASK_NOT_FOUND', message: 'no such task' } }));
    const step = Math.min(polls[id] ?? 0, plays[id]!.length - 1);
    polls[id] = (polls[id] ?? 0) + 1;
    res.writeHead(200).end(JSON.stringify(plays[id]![step]));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await sandbox.dispose();
});

function wait(id: string, ...args: string[]) {
  return sandbox.run(['remote', 'task', id, '--wait', ...args], {
    env: { KLOUD_URL: url, KLOUD_TOKEN: 't' },
  });
}

const running = (id: string, done: number) =>
  task(id, 'running', { progress: { unit: 'packs', done, total: 4, updatedAt: '2026-12-06T03:00:01.000Z' } });

test('a task that succeeds: exit 0, its report on stdout, its states on stderr', async () => {
  plays.ok = [
    task('ok', 'queued'),
    running('ok', 2),
    task('ok', 'succeeded', { result: { ok: true, problems: [], notes: [] } }),
  ];
  const run = await wait('ok');
  expect(run).toMatchObject({ code: 0, stdout: 'no problems found\n' });
  expect(run.stderr).toBe('task ok queued\ntask ok running: 2/4 packs\ntask ok succeeded\n');
  expect(polls.ok).toBe(3);
});

test('a task that fails: exit 6 with its failure; --json still prints the task', async () => {
  plays.bad = [
    running('bad', 1),
    task('bad', 'failed', { failure: { code: 'DAMAGED', message: 'pack 1a2b3c is damaged: /etc/hosts' } }),
  ];
  const run = await wait('bad', '--json');
  expect(run.code).toBe(6);
  expect(JSON.parse(run.stdout)).toMatchObject({ id: 'bad', state: 'failed', failure: { code: 'DAMAGED' } });
  expect(run.stderr).toMatch(
    /error: check task bad failed: DAMAGED: pack 1a2b3c is damaged: \/etc\/hosts — see it with: kloud remote task bad\n$/,
  );
});

test('a cancelled task: exit 7; a task still running when --wait-timeout runs out: exit 5', async () => {
  plays.gone = [task('gone', 'cancelled')];
  const cancelled = await wait('gone');
  expect(cancelled.code).toBe(7);
  expect(cancelled.stderr).toContain(
    'error: check task gone was cancelled — see it with: kloud remote task gone\n',
  );

  plays.slow = [running('slow', 1)];
  const started = Date.now();
  const slow = await wait('slow', '--wait-timeout', '2s');
  expect(slow.code).toBe(5);
  expect(slow.stderr).toContain(
    'error: task slow is still running after 2.0 s — follow it again with: kloud remote task slow --wait (--wait-timeout sets how long)\n',
  );
  // polled after 1 s and 2.5 s at most: the pauses grow, the limit holds
  expect(polls.slow).toBeLessThanOrEqual(3);
  expect(Date.now() - started).toBeLessThan(15_000);
});

test('Ctrl-C stops the waiting with exit 130 and says how to follow the task again', async () => {
  plays.long = [running('long', 1)];
  const { code, stderr } = await interruptedRun(['remote', 'task', 'long', '--wait'], {
    env: sandbox.env({ KLOUD_URL: url, KLOUD_TOKEN: 't' }),
    cwd: sandbox.work,
  });
  expect(code).toBe(130);
  expect(stderr).toBe(
    'task long running: 1/4 packs\nerror: stopped following task long: it goes on running — follow it again with: kloud remote task long --wait (or cancel it: kloud remote cancel long)\n',
  );
});

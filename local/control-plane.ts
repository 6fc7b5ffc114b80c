/**
 * Local mode: the control plane on one machine. dynalite keeps the metadata under the data
 * directory, a 0600 file the secrets, s3rver (when asked) plays S3, and the same Lambda handlers
 * answer through an API Gateway stand-in on 127.0.0.1. The handlers learn all this from the
 * environment alone, as in AWS.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { ApiFunction } from '../layers/control/api/routes.js';
import { apiGatewayAdapter, type ProxyHandler } from './api-gateway-adapter.js';
import { createControlTable, startDynalite } from './dynalite-server.js';
import { installStandIns } from '../layers/control/runtime/stand-ins.js';
import { lambdaContext } from './lambda-context.js';
import { services } from '../layers/control/runtime/services.js';
import { ScheduleRepository } from '../layers/control/schedules/schedule-repository.js';
import { LocalEventBus } from './local-event-bus.js';
import { type LocalFunction, LocalTaskRunner } from './local-task-runner.js';
import { localToken } from './local-token.js';
import { LocalScheduler } from './local-scheduler.js';
import { localFunctionArn, workflowDefinitions } from './state-machine-definitions.js';
import { RESTORE_STATES } from '../lib/restore-state-machine.js';
import { S3RVER_KEY, type S3rverHandle, startS3rver } from './s3rver.js';

export interface LocalOptions {
  /** metadata, secrets, token, s3rver data (default ./.kloud-local) */
  readonly dataDir: string;
  /** the directories inventory (default DATA_DIR/directories) */
  readonly root?: string;
  /** 0: any free port */
  readonly port: number;
  /** start s3rver with these buckets (none: no S3) */
  readonly s3Buckets?: readonly string[];
}

export interface LocalControlPlane {
  readonly url: string;
  readonly token: string;
  /** true when this start made the token (show it once) */
  readonly tokenCreated: boolean;
  readonly tokenFile: string;
  readonly dataDir: string;
  readonly root: string;
  /** the local S3 service: the staging bucket always, store buckets when asked for */
  readonly s3: S3rverHandle;
  readonly s3Buckets: readonly string[];
  readonly stagingBucket: string;
  /** task state changes, as EventBridge would receive them */
  readonly events: LocalEventBus;
  stop(): Promise<void>;
}

const TABLE = 'kloud-local';
const STAGING_BUCKET = 'kloud-staging';
/** the task worker's Lambda timeout, as in the stack */
const WORKER_TIMEOUT_MS = 15 * 60_000;
/** the scheduled-task function's Lambda timeout, as in the stack (its default; schedules, B) */
const SCHEDULED_TASK_TIMEOUT_MS = 29_000;

export async function startControlPlane(options: LocalOptions): Promise<LocalControlPlane> {
  const dataDir = resolve(options.dataDir);
  const root = resolve(options.root ?? join(dataDir, 'directories'));
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await mkdir(join(root, 'backups'), { recursive: true });
  const tokenFile = join(dataDir, 'token');
  const { token, created } = await localToken(tokenFile);

  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const dynamo = await startDynalite(join(dataDir, 'dynamodb'));
  const stops: (() => Promise<void>)[] = [() => dynamo.stop()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    await createControlTable(dynamo.endpoint, TABLE);
    const s3Buckets = options.s3Buckets ?? [];
    const s3 = await startS3rver(join(dataDir, 's3'), [STAGING_BUCKET, ...s3Buckets]);
    stops.push(() => s3.stop());

    Object.assign(process.env, {
      KLOUD_TABLE_NAME: TABLE,
      KLOUD_SECRET_PREFIX: 'kloud/store-apps/',
      KLOUD_SECRETS_FILE: join(dataDir, 'secrets.json'),
      KLOUD_LOCAL_ROOT: root,
      KLOUD_CACHE_DIR: join(dataDir, 'cache'),
      KLOUD_STAGING_BUCKET: STAGING_BUCKET,
      KLOUD_STORE_BUCKETS: JSON.stringify(s3Buckets.map((bucket) => ({ bucket, prefix: '' }))),
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_REGION: 'us-east-1',
      // dynalite takes any key, s3rver only its own
      AWS_ACCESS_KEY_ID: S3RVER_KEY,
      AWS_SECRET_ACCESS_KEY: S3RVER_KEY,
      POWERTOOLS_SERVICE_NAME: 'kloud',
      POWERTOOLS_METRICS_NAMESPACE: 'kloud',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO',
    });
    delete process.env.AWS_PROFILE;
    process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;

    // Step Functions and EventBridge have no protocol emulator here: in-process stand-ins
    const events = new LocalEventBus((line) => process.stdout.write(`${line}\n`));
    const worker = (await import('../functions/task-worker/handler.js')).handler as LocalFunction;
    const logError = (message: string, fields: object) =>
      process.stderr.write(`${JSON.stringify({ level: 'ERROR', message, ...fields })}\n`);
    const taskRunner = new LocalTaskRunner(
      workflowDefinitions(),
      { [localFunctionArn('task-worker')]: { handler: worker, timeoutMs: WORKER_TIMEOUT_MS } },
      // as the stack's TaskExecutionWatch rule does: the worker ends a task its execution left unfinished
      (arn, err) => {
        logError('execution failed', { arn, error: String(err) });
        const ended = { action: 'ended', taskId: arn.slice(arn.lastIndexOf(':') + 1), status: 'FAILED' };
        worker(ended, lambdaContext('task-worker', randomUUID(), WORKER_TIMEOUT_MS)).catch((error: unknown) =>
          logError('execution end not recorded', { arn, error: String(error) }),
        );
      },
      {
        log: (entry) =>
          process.stdout.write(`${JSON.stringify({ level: 'DEBUG', message: 'state machine', ...entry })}\n`),
        // tests shorten the restore's Wait for a retrieval (AWS waits what the worker says)
        ...(process.env.KLOUD_LOCAL_RETRIEVAL_WAIT_MS && {
          waitTimeOverrides: { [RESTORE_STATES.wait]: Number(process.env.KLOUD_LOCAL_RETRIEVAL_WAIT_MS) },
        }),
      },
    );
    // croner fires the schedules in-process, calling the scheduled-task handler
    const scheduler = new LocalScheduler(
      {
        handler: (await import('../functions/scheduled-task/handler.js')).handler as LocalFunction,
        timeoutMs: SCHEDULED_TASK_TIMEOUT_MS,
      },
      (event, err) =>
        process.stderr.write(
          `${JSON.stringify({ level: 'ERROR', message: 'scheduled run failed', ...event, error: String(err) })}\n`,
        ),
      { minuteMs: services().settings.scheduleMinuteMs },
    );
    installStandIns({ taskRunner, taskEvents: events, scheduleBackend: scheduler });
    stops.push(() => taskRunner.stopAll());
    stops.push(() => scheduler.stop());
    await scheduler.armStored(new ScheduleRepository(services().table));

    // imported once the environment is set: the handlers read it on first use
    const handlers: Record<ApiFunction, ProxyHandler> = {
      inventories: (await import('../functions/inventories/handler.js')).handler,
      'store-apps': (await import('../functions/store-apps/handler.js')).handler,
      'store-actions': (await import('../functions/store-actions/handler.js')).handler,
      tasks: (await import('../functions/tasks/handler.js')).handler,
      'store-browse': (await import('../functions/store-browse/handler.js')).handler,
      schedules: (await import('../functions/schedules/handler.js')).handler,
    };
    const server = createServer(apiGatewayAdapter(handlers, token));
    server.listen(options.port, '127.0.0.1');
    await once(server, 'listening');
    stops.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    });
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      token,
      tokenCreated: created,
      tokenFile,
      dataDir,
      root,
      s3,
      s3Buckets,
      stagingBucket: STAGING_BUCKET,
      events,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

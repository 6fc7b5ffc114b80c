/**
 * What each route of routes.ts takes and answers, as zod schemas: the handlers validate every
 * request with them and the OpenAPI document (docs/openapi.yaml) is generated from them.
 */
import { z } from 'zod';
import { Integration } from '../integrations/integration-catalog.js';
import { Inventory, InventoryPath } from '../inventories/inventories.js';
import { Resource, ResourceId } from '../inventories/resource.js';
import { RegisterSftpServerBody, SftpServer } from '../inventories/sftp-servers.js';
import {
  AppId,
  CreateStoreAppBody,
  StoreApp,
  TestResult,
  UpdateStoreAppBody,
} from '../store-apps/store-app.js';
import { BackupParameters } from '../backup/backup-parameters.js';
import { MaintenanceParameters } from '../maintenance/maintenance-work.js';
import { CheckParameters } from '../tasks/check-work.js';
import { RestoreRequest, RetrievalPlan } from '../tasks/restore/restore-parameters.js';
import { SyncParameters } from '../tasks/sync-parameters.js';
import type { Caller } from '../tasks/tasks.js';
import { Task, TASK_STATES, TASK_TYPES, TaskId } from '../tasks/task.js';
import {
  ChangeItem,
  DiffPath,
  DiffQuery,
  EntriesQuery,
  EntryItem,
  FileAnswer,
  FileQuery,
  FoundItem,
  SearchQuery,
  SnapshotItem,
  SnapshotPath,
  SnapshotsQuery,
} from '../browse/browse-schemas.js';
import { NoContent, pageOf, PageQuery } from './common-schemas.js';
import { CreateScheduleBody, Schedule, ScheduleId, UpdateScheduleBody } from '../schedules/schedule.js';

export interface OperationSpec {
  /** the OpenAPI operationId */
  readonly id: string;
  readonly path?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  readonly response: z.ZodType;
  readonly status: number;
  /** takes an Idempotency-Key header (task-creating calls): a repeat answers 200 */
  readonly idempotent?: true;
}

const ServerId = z.strictObject({
  serverId: z.string().regex(/^[0-9a-f-]{36}$/, 'expected a server ID as the API gave it'),
});

export const OPERATIONS = {
  'GET /inventories': { id: 'listInventories', query: PageQuery, response: pageOf(Inventory), status: 200 },
  'GET /inventories/{inventoryId}/resources': {
    id: 'listResources',
    path: InventoryPath,
    query: PageQuery,
    response: pageOf(Resource),
    status: 200,
  },
  'GET /sftp-servers': { id: 'listSftpServers', query: PageQuery, response: pageOf(SftpServer), status: 200 },
  'POST /sftp-servers': {
    id: 'registerSftpServer',
    body: RegisterSftpServerBody,
    response: SftpServer,
    status: 201,
  },
  'DELETE /sftp-servers/{serverId}': {
    id: 'forgetSftpServer',
    path: ServerId,
    response: NoContent,
    status: 204,
  },
  'GET /integrations': {
    id: 'listIntegrations',
    query: PageQuery.extend({
      resourceId: ResourceId.optional().meta({
        description: 'only the integrations compatible with this resource',
      }),
    }),
    response: pageOf(Integration),
    status: 200,
  },
  'POST /store-apps': { id: 'createStoreApp', body: CreateStoreAppBody, response: StoreApp, status: 201 },
  'GET /store-apps': { id: 'listStoreApps', query: PageQuery, response: pageOf(StoreApp), status: 200 },
  'GET /store-apps/{appId}': { id: 'getStoreApp', path: AppId, response: StoreApp, status: 200 },
  'PATCH /store-apps/{appId}': {
    id: 'updateStoreApp',
    path: AppId,
    body: UpdateStoreAppBody,
    response: StoreApp,
    status: 200,
  },
  'DELETE /store-apps/{appId}': { id: 'deleteStoreApp', path: AppId, response: NoContent, status: 204 },
  'POST /store-apps/{appId}/test': { id: 'testConnection', path: AppId, response: TestResult, status: 200 },
  'POST /store-apps/{appId}/initialize': {
    id: 'initializeStore',
    path: AppId,
    response: TestResult,
    status: 201,
  },
  'POST /store-apps/{appId}/checks': {
    id: 'createCheck',
    path: AppId,
    body: CheckParameters,
    response: Task,
    status: 202,
    idempotent: true,
  },
  'POST /store-apps/{appId}/syncs': {
    id: 'createSync',
    path: AppId,
    body: SyncParameters,
    response: Task,
    status: 202,
    idempotent: true,
  },
  'POST /store-apps/{appId}/restores': {
    id: 'createRestore',
    path: AppId,
    body: RestoreRequest,
    // 200 with the plan for a dry run
    response: z.union([Task, RetrievalPlan]),
    status: 202,
    idempotent: true,
  },
  'GET /tasks': {
    id: 'listTasks',
    query: PageQuery.extend({
      appId: AppId.shape.appId.optional().meta({ description: "only this store app's tasks" }),
      state: z.enum(TASK_STATES).optional().meta({ description: 'only the tasks in this state' }),
      type: z.enum(TASK_TYPES).optional().meta({ description: 'only the tasks of this type' }),
    }),
    response: pageOf(Task),
    status: 200,
  },
  'GET /tasks/{taskId}': { id: 'getTask', path: TaskId, response: Task, status: 200 },
  'POST /tasks/{taskId}/cancel': { id: 'cancelTask', path: TaskId, response: Task, status: 200 },
  'GET /store-apps/{appId}/snapshots': {
    id: 'listSnapshots',
    path: AppId,
    query: SnapshotsQuery,
    response: pageOf(SnapshotItem),
    status: 200,
  },
  'GET /store-apps/{appId}/snapshots/{snapshotId}/entries': {
    id: 'listSnapshotEntries',
    path: SnapshotPath,
    query: EntriesQuery,
    response: pageOf(EntryItem),
    status: 200,
  },
  'GET /store-apps/{appId}/snapshots/{snapshotId}/file': {
    id: 'downloadSnapshotFile',
    path: SnapshotPath,
    query: FileQuery,
    response: FileAnswer,
    status: 200,
  },
  'GET /store-apps/{appId}/snapshots/{a}/diff/{b}': {
    id: 'diffSnapshots',
    path: DiffPath,
    query: DiffQuery,
    response: pageOf(ChangeItem),
    status: 200,
  },
  'GET /store-apps/{appId}/search': {
    id: 'searchSnapshots',
    path: AppId,
    query: SearchQuery,
    response: pageOf(FoundItem),
    status: 200,
  },
  'POST /schedules': { id: 'createSchedule', body: CreateScheduleBody, response: Schedule, status: 201 },
  'GET /schedules': { id: 'listSchedules', query: PageQuery, response: pageOf(Schedule), status: 200 },
  'GET /schedules/{scheduleId}': { id: 'getSchedule', path: ScheduleId, response: Schedule, status: 200 },
  'PUT /schedules/{scheduleId}': {
    id: 'updateSchedule',
    path: ScheduleId,
    body: UpdateScheduleBody,
    response: Schedule,
    status: 200,
  },
  'DELETE /schedules/{scheduleId}': {
    id: 'deleteSchedule',
    path: ScheduleId,
    response: NoContent,
    status: 204,
  },
  'POST /schedules/{scheduleId}/pause': {
    id: 'pauseSchedule',
    path: ScheduleId,
    response: Schedule,
    status: 200,
  },
  'POST /schedules/{scheduleId}/resume': {
    id: 'resumeSchedule',
    path: ScheduleId,
    response: Schedule,
    status: 200,
  },
  'POST /store-apps/{appId}/backups': {
    id: 'createBackup',
    path: AppId,
    body: BackupParameters,
    response: Task,
    status: 202,
    idempotent: true,
  },
  'POST /store-apps/{appId}/maintenance': {
    id: 'createMaintenance',
    path: AppId,
    body: MaintenanceParameters,
    response: Task,
    status: 202,
    idempotent: true,
  },
} as const satisfies Record<string, OperationSpec>;

export type Operations = typeof OPERATIONS;
export type OperationKey = keyof Operations;

type Part<K extends OperationKey, P extends string> = Operations[K] extends {
  [key in P]: infer S extends z.ZodType;
}
  ? z.infer<S>
  : undefined;

/** A request as the handlers receive it: validated and typed. */
export interface OperationInput<K extends OperationKey> {
  readonly path: Part<K, 'path'>;
  readonly query: Part<K, 'query'>;
  readonly body: Part<K, 'body'>;
  readonly caller: Caller;
}

export type OperationResult<K extends OperationKey> = z.input<Operations[K]['response']>;

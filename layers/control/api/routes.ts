/**
 * The control plane's REST routes: one table read by the CDK stack (API Gateway resources and
 * methods, which function serves each), by local mode's HTTP adapter (the same `resource` and
 * `pathParameters` API Gateway would put in a proxy event) and by the OpenAPI generator. Plain
 * data on purpose: infrastructure code may import it without pulling in any runtime code.
 */

/** The Lambda functions behind the API; each is `functions/<name>/handler.ts`, exporting `handler`. */
export const API_FUNCTIONS = [
  'inventories',
  'store-apps',
  'store-actions',
  'store-browse',
  'tasks',
  'schedules',
] as const;
export type ApiFunction = (typeof API_FUNCTIONS)[number];

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface Route {
  readonly method: HttpMethod;
  /** API Gateway resource path, `{name}` for a path parameter */
  readonly path: string;
  readonly fn: ApiFunction;
  /** one line for the OpenAPI summary */
  readonly summary: string;
}

export const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/inventories', fn: 'inventories', summary: 'List the inventories' },
  {
    method: 'GET',
    path: '/inventories/{inventoryId}/resources',
    fn: 'inventories',
    summary: "List an inventory's resources",
  },
  { method: 'GET', path: '/sftp-servers', fn: 'inventories', summary: 'List the registered SFTP servers' },
  { method: 'POST', path: '/sftp-servers', fn: 'inventories', summary: 'Register an SFTP server' },
  {
    method: 'DELETE',
    path: '/sftp-servers/{serverId}',
    fn: 'inventories',
    summary: 'Forget a registered SFTP server',
  },
  { method: 'GET', path: '/integrations', fn: 'inventories', summary: 'List the integrations' },
  { method: 'POST', path: '/store-apps', fn: 'store-apps', summary: 'Add a store app' },
  { method: 'GET', path: '/store-apps', fn: 'store-apps', summary: 'List the store apps' },
  { method: 'GET', path: '/store-apps/{appId}', fn: 'store-apps', summary: 'Show a store app' },
  { method: 'PATCH', path: '/store-apps/{appId}', fn: 'store-apps', summary: 'Change a store app' },
  { method: 'DELETE', path: '/store-apps/{appId}', fn: 'store-apps', summary: 'Remove a store app' },
  {
    method: 'POST',
    path: '/store-apps/{appId}/test',
    fn: 'store-actions',
    summary: "Test the connection to a store app's location",
  },
  {
    method: 'POST',
    path: '/store-apps/{appId}/initialize',
    fn: 'store-actions',
    summary: "Create the Kloset store at a store app's location",
  },
  {
    method: 'POST',
    path: '/store-apps/{appId}/checks',
    fn: 'tasks',
    summary: "Start a check of a store app's store (a task)",
  },
  {
    method: 'POST',
    path: '/store-apps/{appId}/syncs',
    fn: 'tasks',
    summary: "Start a sync of a store app's snapshots to or from another app (a task)",
  },
  {
    method: 'POST',
    path: '/store-apps/{appId}/restores',
    // the engine's function, to answer a dry run's plan (docs/ARCHITECTURE.md, "Cold restores")
    fn: 'store-browse',
    summary: 'Start a restore from a snapshot to a destination or an archive (a task), or plan it (dryRun)',
  },
  { method: 'GET', path: '/tasks', fn: 'tasks', summary: 'List the tasks, newest first' },
  { method: 'GET', path: '/tasks/{taskId}', fn: 'tasks', summary: 'Show a task' },
  { method: 'POST', path: '/tasks/{taskId}/cancel', fn: 'tasks', summary: 'Cancel a queued or running task' },
  {
    method: 'GET',
    path: '/store-apps/{appId}/snapshots',
    fn: 'store-browse',
    summary: "List a store app's snapshots",
  },
  {
    method: 'GET',
    path: '/store-apps/{appId}/snapshots/{snapshotId}/entries',
    fn: 'store-browse',
    summary: "List a directory's entries in a snapshot",
  },
  {
    method: 'GET',
    path: '/store-apps/{appId}/snapshots/{snapshotId}/file',
    fn: 'store-browse',
    summary: 'Download one file of a snapshot',
  },
  {
    method: 'GET',
    path: '/store-apps/{appId}/snapshots/{a}/diff/{b}',
    fn: 'store-browse',
    summary: 'List what changed between two snapshots',
  },
  {
    method: 'GET',
    path: '/store-apps/{appId}/search',
    fn: 'store-browse',
    summary: "Search a store app's snapshots",
  },
  { method: 'POST', path: '/schedules', fn: 'schedules', summary: 'Create a schedule of a task' },
  { method: 'GET', path: '/schedules', fn: 'schedules', summary: 'List the schedules' },
  {
    method: 'GET',
    path: '/schedules/{scheduleId}',
    fn: 'schedules',
    summary: 'Show a schedule, its next runs and its last run',
  },
  {
    method: 'PUT',
    path: '/schedules/{scheduleId}',
    fn: 'schedules',
    summary: "Replace a schedule's definition",
  },
  { method: 'DELETE', path: '/schedules/{scheduleId}', fn: 'schedules', summary: 'Delete a schedule' },
  { method: 'POST', path: '/schedules/{scheduleId}/pause', fn: 'schedules', summary: 'Pause a schedule' },
  {
    method: 'POST',
    path: '/schedules/{scheduleId}/resume',
    fn: 'schedules',
    summary: 'Resume a paused schedule',
  },
  {
    method: 'POST',
    path: '/store-apps/{appId}/backups',
    fn: 'tasks',
    summary: "Start a backup of another store app's data into this app's store (a task)",
  },
  {
    method: 'POST',
    path: '/store-apps/{appId}/maintenance',
    fn: 'tasks',
    summary:
      "Start a maintenance of a store app's store: forget by its retention policy, then prune (a task)",
  },
];

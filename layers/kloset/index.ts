/**
 * The Kloset engine's public API: the only module the CLI, the benchmarks and the control plane
 * (layers/control/engine/kloset-adapter.ts) import. docs/ENGINE-API.md describes it; docs/FORMAT.md
 * the bytes.
 */
export { Store } from './store.js';
export {
  StoreConnection,
  connectStore,
  createStore,
  openStore,
  probeLocation,
  readStoreConfig,
  storeNeedsPassphrase,
} from './store-connection.js';
export type { SnapshotList } from './store.js';
export type { LocationState } from './core/store-backend.js';
export { formatLocation, locationBelow, parseLocation } from './core/location.js';
export type {
  ConnectorOptions,
  FsLocation,
  Location,
  LocationInput,
  S3Location,
  Scheme,
  SftpLocation,
} from './core/location.js';
export type { EntryInfo, LsPage, StoreInfo } from './store.js';
export { KlosetError } from './core/errors.js';
export { losslessNames, nameFromBytes, nameToBytes } from './core/byte-names.js';
export type { KlosetErrorCode } from './core/errors.js';
export type { CreateOptions, OpenOptions } from './repository/repository.js';
export type { StoreConfig } from './repository/store-config.js';
export type { KeySlotInfo } from './repository/key-slots.js';
export type { BackupOptions, BackupProgress, BackupResult } from './backup/backup.js';
export type {
  RestoreCursor,
  RestoreOptions,
  RestoreProgress,
  RestoreResult,
  OverwritePolicy,
} from './restore/restore.js';
export { TarDestination } from './restore/tar-destination.js';
export type {
  CheckOptions,
  CheckProblem,
  CheckProgress,
  CheckReport,
  DataCheckCursor,
  DataCheckOptions,
  DataCheckStep,
} from './check/check.js';
export { accessDamageReport } from './check/access-damage.js';
export type { RepairOptions, RepairProgress, RepairReport } from './repair/repair.js';
export type { RetrievalEstimate, RetrievalOptions, RetrievalStatus } from './restore/retrieval.js';
export type { WaitOptions } from './restore/retrieval-wait.js';
export type { RetrievalTier } from './core/store-backend.js';
export type {
  BackupCounts,
  SnapshotRecord,
  SnapshotSummary,
  SnapshotError,
} from './snapshot/snapshot-record.js';
export type { Change, ChangeKind } from './diff/diff.js';
export type { RemoveSelection } from './rm/remove-snapshots.js';
export type { ForgetGroup, ForgetOptions, GroupField } from './forget/forget.js';
export { DEFAULT_GRACE_MS, DEFAULT_REPACK_THRESHOLD, mergePruneReports } from './prune/prune.js';
export type {
  PruneCheckpoint,
  PruneOptions,
  PruneProgress,
  PruneReport,
  PruneScratch,
  PruneStep,
  PruneStepOptions,
  PrunedPack,
  RepackedPack,
} from './prune/prune.js';
export type { EarlyDeletion } from './prune/early-deletion.js';
export type {
  CalendarSpan,
  KeepReason,
  RetentionDecision,
  RetentionPolicy,
} from './forget/retention-policy.js';
export { parseCalendarSpan } from './forget/retention-policy.js';
export { syncSnapshots } from './sync/sync-snapshots.js';
export type { SyncOptions, SyncProgress, SyncResult } from './sync/sync-snapshots.js';
export { backupBatch, commitSnapshot } from './backup/backup.js';
export type { BatchResult, SnapshotMeta } from './backup/backup.js';
export { parsePlanCursor, planBackup } from './backup/plan.js';
export type { BackupPlan, PlanCursor, PlanOptions, PlanStep } from './backup/plan.js';
export { batchBytes, parseWorkBatch } from './backup/work-batch.js';
export type { BatchItem, WorkBatch } from './backup/work-batch.js';
export type { BackupSource, SourceEntry } from './core/backup-source.js';
// the S3 and SFTP connectors (the AWS SDK, ssh2) are loaded on first use: connectStore,
// openSources and openDestination choose them by scheme
export { connectorWarning } from './connectors/open-location.js';
export { checkLocation } from './connectors/check-location.js';
export type { LocationUse } from './connectors/check-location.js';
export { openSources } from './connectors/open-sources.js';
export type { OpenedSources } from './connectors/open-sources.js';
export { openDestination } from './connectors/open-destination.js';
export type { ExistingEntry, FileContent, RestoreDestination } from './core/restore-destination.js';

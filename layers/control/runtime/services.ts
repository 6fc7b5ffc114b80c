/**
 * The domain objects the handlers need, built from the settings on first use (not at import:
 * local mode and tests set the environment first). Local mode swaps Secrets Manager for a file.
 * The engine is not among them: only store-actions loads it (store-actions-service.ts), so the
 * other functions' bundles stay small.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Table } from '../data/table.js';
import { Inventories } from '../inventories/inventories.js';
import { SftpServers } from '../inventories/sftp-servers.js';
import { FileSecretStore } from '../secrets/file-secret-store.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { SecretsManagerStore } from '../secrets/secrets-manager-store.js';
import { StagingArea } from '../staging/staging-area.js';
import { StoreAppRepository } from '../store-apps/store-app-repository.js';
import { StoreApps } from '../store-apps/store-apps.js';
import { tracer } from './observability.js';
import { readSettings, type Settings } from './settings.js';

export interface Services {
  readonly settings: Settings;
  readonly table: Table;
  readonly sftpServers: SftpServers;
  readonly inventories: Inventories;
  readonly storeApps: StoreApps;
  readonly repository: StoreAppRepository;
  readonly secrets: SecretStore;
  /** absent where no staging bucket is bound (functions that stage nothing) */
  readonly staging?: StagingArea;
}

let built: Services | undefined;

export function services(): Services {
  return (built ??= buildServices(readSettings()));
}

function buildServices(settings: Settings): Services {
  const table = new Table(settings.tableName, tracer.captureAWSv3Client(new DynamoDBClient({})));
  const secrets: SecretStore = settings.secretsFile
    ? new FileSecretStore(settings.secretsFile)
    : new SecretsManagerStore(settings.kmsKeyArn, tracer.captureAWSv3Client(new SecretsManagerClient({})));
  const s3 = tracer.captureAWSv3Client(
    new S3Client({ forcePathStyle: settings.localS3Endpoint !== undefined }),
  );
  const sftpServers = new SftpServers(table);
  const repository = new StoreAppRepository(table);
  return {
    settings,
    table,
    sftpServers,
    inventories: new Inventories(settings, sftpServers, s3),
    storeApps: new StoreApps(settings, repository, secrets, sftpServers),
    repository,
    secrets,
    ...(settings.stagingBucket && { staging: new StagingArea(s3, settings.stagingBucket) }),
  };
}

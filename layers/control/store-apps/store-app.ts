/**
 * A store app: one Kloset store location as the control plane knows it. The item holds where it
 * points and how (never a secret: those are in the secret store under `secretName`), its state and
 * the last test's outcome.
 *
 * created ──test──► tested (empty location) ──initialize──► ready
 *    │                                                       ▲
 *    └──test──► ready (a store the passphrase opens) ─────────┘
 *    └──test──► failed (with the reason); a new test or a change starts over
 */
import { z } from 'zod';
import { PROTOCOLS } from '../integrations/integration-catalog.js';
import { ResourceId } from '../inventories/resource.js';
import { Retention } from '../maintenance/retention.js';

export const STATES = ['created', 'tested', 'ready', 'failed'] as const;
export type AppState = (typeof STATES)[number];

export const StorageType = z.enum(['standard', 'cold']).meta({
  description: 'a label for policies; it does not change how the store is written',
});

export const AppName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
    'expected 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit',
  )
  .meta({ description: 'tells apart the store apps of one resource (unique per resource)' });

export const Passphrase = z
  .string()
  .min(8, 'the passphrase must have at least 8 characters')
  .max(1024)
  .meta({ description: "the store's passphrase; kept in the secret store, never returned" });

export const AppId = z.strictObject({
  appId: z.string().regex(/^[0-9a-f-]{36}$/, 'expected a store app ID as the API gave it'),
});

/** The outcome of the last Test Connection or Initialize Store. */
export const LastTest = z.object({
  outcome: z.enum(['store', 'empty', 'other', 'absent', 'wrong-passphrase', 'error']),
  code: z.string().optional(),
  message: z.string(),
  at: z.string(),
});
export type LastTest = z.infer<typeof LastTest>;

/** Where an app points, resolved from its resource when it was added (no secret). */
export type AppTarget =
  | { kind: 's3'; bucket: string }
  | { kind: 'sftp'; serverId: string; host: string; port: number; user: string; hostKey: string }
  | { kind: 'fs'; directory: string };

export const StoreApp = z
  .object({
    id: z.string(),
    name: AppName,
    resourceId: ResourceId,
    integration: z.string(),
    protocol: z.enum(PROTOCOLS),
    storageType: StorageType,
    configuration: z.record(z.string(), z.unknown()),
    location: z.string().meta({ description: 'the store location, without secrets' }),
    hasCredentials: z.boolean(),
    state: z.enum(STATES),
    lastTest: LastTest.optional(),
    /** what a maintenance keeps when its request names no policy */
    retention: Retention.optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'StoreApp' });
export type StoreApp = z.infer<typeof StoreApp>;

/** The app as the table keeps it: the public fields plus what only the runtime needs. */
export interface StoreAppRecord extends StoreApp {
  readonly target: AppTarget;
  readonly secretName: string;
  readonly version: number;
}

/** The fields the API shows (the schema drops the rest). */
export function publicView(record: StoreAppRecord): StoreApp {
  return StoreApp.parse(record);
}

const Configuration = z.record(z.string(), z.unknown()).meta({
  description:
    "the protocol's configuration: FsConfiguration, S3Configuration, S3CompatibleConfiguration or SftpConfiguration",
});
const Credentials = z
  .record(z.string(), z.unknown())
  .meta({ description: "the protocol's credentials: S3Credentials or SftpCredentials; never returned" });

export const CreateStoreAppBody = z
  .strictObject({
    resourceId: ResourceId,
    name: AppName,
    storageType: StorageType,
    integration: z
      .string()
      .max(64)
      .optional()
      .meta({ description: 'needed when several integrations fit the resource' }),
    protocol: z.string().max(64).optional().meta({ description: 'needed when the integration has several' }),
    configuration: Configuration.default({}),
    credentials: Credentials.optional(),
    passphrase: Passphrase,
  })
  .meta({ id: 'CreateStoreApp' });
export type CreateStoreAppBody = z.infer<typeof CreateStoreAppBody>;

export const UpdateStoreAppBody = z
  .strictObject({
    name: AppName.optional(),
    storageType: StorageType.optional(),
    configuration: Configuration.optional(),
    credentials: Credentials.nullable().optional().meta({ description: 'null removes them' }),
    passphrase: Passphrase.optional(),
    retention: Retention.nullable()
      .optional()
      .meta({ description: 'the policy a maintenance applies by default; null removes it' }),
  })
  .refine((b) => Object.keys(b).length > 0, 'give at least one field to change')
  .meta({ id: 'UpdateStoreApp' });
export type UpdateStoreAppBody = z.infer<typeof UpdateStoreAppBody>;

/** The secret kept for an app: everything a connection needs that must not be in the table. */
export interface AppSecret {
  readonly passphrase: string;
  readonly credentials?: Record<string, unknown>;
}

export const TestResult = z
  .object({
    outcome: LastTest.shape.outcome,
    code: z.string().optional(),
    message: z.string(),
    app: StoreApp,
  })
  .meta({ id: 'TestResult' });
export type TestResult = z.infer<typeof TestResult>;

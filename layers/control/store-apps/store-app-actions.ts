/**
 * Test Connection and Initialize Store: reach an app's location with its configuration and
 * secrets through the engine, and record the outcome in the app's state.
 */
import { engineAdvice, engineAnswer, isKlosetError } from '../engine/engine-answers.js';
import type { KlosetAdapter } from '../engine/kloset-adapter.js';
import type { ConnectorTarget } from '../engine/connector-target.js';
import { Conflict } from '../errors.js';
import type { Settings } from '../runtime/settings.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { connectorTarget } from './app-placement.js';
import { readSecret } from './app-secret.js';
import {
  publicView,
  type AppState,
  type LastTest,
  type StoreAppRecord,
  type TestResult,
} from './store-app.js';
import type { StoreAppRepository } from './store-app-repository.js';

const notAStore = (where: string) =>
  `${where} holds data that is not a Kloset store: kloud will not initialize over it; choose another prefix or path`;

type Outcome = Omit<LastTest, 'at'> & { state: AppState };

export class StoreAppActions {
  constructor(
    private readonly settings: Settings,
    private readonly repository: StoreAppRepository,
    private readonly secrets: SecretStore,
    private readonly engine: KlosetAdapter,
  ) {}

  /** Always answers with the outcome (also when the location is unusable) and records it. */
  async test(id: string): Promise<TestResult> {
    const app = await this.repository.get(id);
    const secret = await readSecret(this.secrets, app.secretName);
    const target = connectorTarget(app, secret, this.settings);
    let outcome: Outcome;
    try {
      outcome = await this.probe(target, app, secret.passphrase);
    } catch (err) {
      if (!isKlosetError(err)) throw err;
      const wrong = err.code === 'WRONG_PASSPHRASE';
      outcome = {
        state: 'failed',
        outcome: wrong ? 'wrong-passphrase' : 'error',
        code: err.code,
        message: wrong
          ? `the passphrase does not open the store at ${target.printable}: ${engineAdvice(err.code)}`
          : `${err.message}: ${engineAdvice(err.code)}`,
      };
    }
    const { state, ...result } = outcome;
    const saved = await this.record(app, state, result);
    return { ...result, app: publicView(saved) };
  }

  /** Creates the store; refuses where a store or any other data is (409). */
  async initialize(id: string): Promise<TestResult> {
    const app = await this.repository.get(id);
    const secret = await readSecret(this.secrets, app.secretName);
    const target = connectorTarget(app, secret, this.settings);
    try {
      const state = await this.engine.initialize(target, secret.passphrase);
      if (state === 'store')
        throw new Conflict(
          `a Kloset store is already at ${target.printable}: test the connection to use it`,
          'STORE_EXISTS',
        );
      if (state === 'other') throw new Conflict(notAStore(target.printable), 'NOT_A_STORE');
    } catch (err) {
      throw isKlosetError(err) ? engineAnswer(err) : err;
    }
    const result = { outcome: 'store' as const, message: `created a Kloset store at ${target.printable}` };
    const saved = await this.record(app, 'ready', result);
    return { ...result, app: publicView(saved) };
  }

  private async probe(target: ConnectorTarget, app: StoreAppRecord, passphrase: string): Promise<Outcome> {
    const where = target.printable;
    switch (await this.engine.test(target, passphrase)) {
      case 'empty':
        return { state: 'tested', outcome: 'empty', message: `no store at ${where} yet: initialize it` };
      case 'absent':
        // only a bucket cannot be created by kloud; a missing directory is made by initialize
        return app.target.kind === 's3'
          ? {
              state: 'failed',
              outcome: 'absent',
              code: 'BUCKET_NOT_FOUND',
              message: `${where} does not exist: ${engineAdvice('BUCKET_NOT_FOUND')}`,
            }
          : {
              state: 'tested',
              outcome: 'empty',
              message: `${where} does not exist yet: initializing creates it`,
            };
      case 'other':
        return {
          state: 'failed',
          outcome: 'other',
          code: 'NOT_A_STORE',
          message: notAStore(where),
        };
      case 'store':
        return {
          state: 'ready',
          outcome: 'store',
          message: `a Kloset store is at ${where} and the passphrase opens it`,
        };
    }
  }

  private async record(
    app: StoreAppRecord,
    state: AppState,
    result: Omit<LastTest, 'at'>,
  ): Promise<StoreAppRecord> {
    const at = new Date().toISOString();
    return this.repository.save({ ...app, state, lastTest: { ...result, at }, updatedAt: at });
  }
}

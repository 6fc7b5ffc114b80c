/** Store apps named on the command line by ID or by name, as `kloud remote` takes them. */
import type { StoreApp } from '../../layers/control/store-apps/store-app.js';
import { CliError } from '../failures/errors.js';
import type { ApiClient } from './api-client.js';

/** The shape of the IDs the API gives (UUIDs). */
const APP_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The app's ID: `ref` itself when it is one, else the one app of that name. */
export async function resolveAppId(api: ApiClient, ref: string): Promise<string> {
  if (APP_ID.test(ref)) return ref;
  const named: StoreApp[] = [];
  for await (const app of api.list<StoreApp>('/store-apps')) if (app.name === ref) named.push(app);
  if (named.length === 1) return named[0]!.id;
  if (named.length === 0) {
    throw new CliError(`no store app named "${ref}"`, 'list them with: kloud remote apps list', undefined, {
      code: 'APP_NOT_FOUND',
    });
  }
  // names are unique per resource only
  const which = named.map((app) => `${app.id} (${app.location})`).join(', ');
  throw new CliError(
    `${named.length} store apps are named "${ref}": ${which}`,
    'name the app by its ID',
    undefined,
    {
      code: 'AMBIGUOUS_APP',
    },
  );
}

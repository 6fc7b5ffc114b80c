/**
 * Named control planes kept in the config file (`remotes:`), beside the store aliases: added,
 * listed and removed by `kloud remote add|list|rm`, used with `--remote NAME`.
 */
import type { ConfigFile, RemoteEntry } from '../places/config-file.js';
import { CliError } from '../failures/errors.js';

export interface Remote extends RemoteEntry {
  name: string;
}

export class RemoteBook {
  constructor(private readonly file: ConfigFile) {}

  list(): Remote[] {
    return Object.entries(this.file.data.remotes ?? {}).map(([name, entry]) => ({ name, ...entry }));
  }

  get(name: string): Remote {
    const remote = this.list().find((r) => r.name === name);
    if (remote) return remote;
    const known = this.list().map((r) => r.name);
    throw new CliError(
      `unknown remote "${name}"`,
      `${known.length > 0 ? `known remotes: ${known.join(', ')}` : 'none is defined yet'} (add one with: kloud remote add NAME URL)`,
    );
  }

  add(name: string, entry: RemoteEntry): Remote {
    if (this.list().some((r) => r.name === name)) {
      throw new CliError(`remote "${name}" already exists`, `remove it first: kloud remote rm ${name}`);
    }
    this.file.doc.setIn(['remotes', name], this.file.doc.createNode(entry));
    return this.get(name);
  }

  remove(name: string): Remote {
    const remote = this.get(name);
    this.file.doc.deleteIn(['remotes', name]);
    return remote;
  }
}

/**
 * Named stores, sources and destinations kept in the config file: what can be added, changed and
 * removed, and which options hold secrets.
 */
import type { AliasEntry, ConfigFile } from './config-file.js';
import { CliError, EXIT, usageError } from '../failures/errors.js';

export const ROLES = ['store', 'source', 'destination'] as const;
export type Role = (typeof ROLES)[number];

const SECTION = { store: 'stores', source: 'sources', destination: 'destinations' } as const;

/** Options that only make sense for a store: they unlock its key. */
const STORE_ONLY = new Set(['passphrase', 'passphrase_cmd']);

/** An alias's options as its connector takes them: without those that are kloud's own. */
export function connectorOptions(options: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(options).filter(([key]) => !STORE_ONLY.has(key)));
}

const SECRET = /(passphrase|password|token)$|secret/;

export const MASK = '********';

export function isSecretKey(key: string): boolean {
  return SECRET.test(key);
}

export interface Alias {
  name: string;
  location: string;
  options: Record<string, string>;
  isDefault: boolean;
}

export class AliasBook {
  constructor(private readonly file: ConfigFile) {}

  list(role: Role): Alias[] {
    const data = this.file.data;
    const entries = Object.entries(data[SECTION[role]] ?? {});
    const fallback = data.defaults?.[role];
    return entries.map(([name, entry]) => toAlias(name, entry, name === fallback));
  }

  find(role: Role, name: string): Alias | undefined {
    return this.list(role).find((alias) => alias.name === name);
  }

  get(role: Role, name: string): Alias {
    const alias = this.find(role, name);
    if (alias) return alias;
    const known = this.list(role).map((a) => a.name);
    const hint = known.length > 0 ? `known ${role}s: ${known.join(', ')}` : `none is defined yet`;
    throw new CliError(
      `unknown ${role} alias "${name}"`,
      `${hint} (add one with: kloud ${role} add NAME LOCATION)`,
    );
  }

  defaultAlias(role: Role): Alias | undefined {
    return this.list(role).find((alias) => alias.isDefault);
  }

  /** The changing methods return the alias as it is afterwards (`remove`: as it was). */
  add(role: Role, name: string, location: string, options: Record<string, string>): Alias {
    if (this.find(role, name)) {
      throw new CliError(
        `${role} alias "${name}" already exists`,
        `change it with: kloud ${role} set ${name} key=value, or remove it first`,
      );
    }
    checkOptions(role, options);
    this.file.doc.setIn([SECTION[role], name], this.file.doc.createNode({ location, ...options }));
    return this.get(role, name);
  }

  set(role: Role, name: string, options: Record<string, string>): Alias {
    this.get(role, name);
    checkOptions(role, options);
    for (const [key, value] of Object.entries(options))
      this.file.doc.setIn([SECTION[role], name, key], value);
    return this.get(role, name);
  }

  unset(role: Role, name: string, keys: string[]): Alias {
    const alias = this.get(role, name);
    for (const key of keys) {
      if (key === 'location') {
        throw usageError(
          `cannot unset the location of ${role} "${name}"`,
          `change it with location=... instead`,
        );
      }
      if (!(key in alias.options)) {
        throw new CliError(
          `${role} "${name}" has no option "${key}"`,
          `see its options with: kloud ${role} show ${name}`,
        );
      }
    }
    for (const key of keys) this.file.doc.deleteIn([SECTION[role], name, key]);
    return this.get(role, name);
  }

  remove(role: Role, name: string): Alias {
    const alias = this.get(role, name);
    this.file.doc.deleteIn([SECTION[role], name]);
    if (alias.isDefault) this.file.doc.deleteIn(['defaults', role]);
    return alias;
  }

  setDefault(role: Role, name: string): Alias {
    this.get(role, name);
    this.file.doc.setIn(['defaults', role], name);
    return this.get(role, name);
  }
}

function toAlias(name: string, entry: AliasEntry, isDefault: boolean): Alias {
  const { location, ...options } = entry;
  return { name, location, options: options as Record<string, string>, isDefault };
}

function checkOptions(role: Role, options: Record<string, string>): void {
  if (role === 'store') return;
  const misplaced = Object.keys(options).find((key) => STORE_ONLY.has(key));
  if (misplaced) {
    throw usageError(
      `"${misplaced}" applies to stores only`,
      `set it on a store alias: kloud store set NAME ${misplaced}=...`,
    );
  }
}

/**
 * An alias in use whose settings its connector refuses (saved by an older kloud, or edited by
 * hand): names it, with the fix. `what` says which place it is; `err` is the connector's refusal.
 */
export function badAliasError(role: Role, alias: string, what: string, err: Error): CliError {
  return new CliError(
    `${what}: ${err.message}`,
    `fix the alias: kloud ${role} set ${alias} key=value, or kloud ${role} unset ${alias} key`,
    EXIT.failure,
    { cause: err },
  );
}

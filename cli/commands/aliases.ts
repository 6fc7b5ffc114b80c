/** `kloud store|source|destination add|set|unset|show|ls|rm|default`: named locations in the config. */
import type { Command } from 'commander';
import { type Alias, type AliasBook, isSecretKey, MASK, type Role, ROLES } from '../places/aliases.js';
import { refuseUnusableAlias } from '../places/alias-check.js';
import { NEW_ALIAS_NAME } from '../places/config-file.js';
import type { CommandContext } from '../context.js';
import { usageError } from '../failures/errors.js';
import { parseKeys, parseKeyValues } from '../places/key-values.js';
import { locationText, parseLocation } from '../places/location.js';

interface AliasView {
  name: string;
  location: string;
  default: boolean;
  options: Record<string, string>;
}

/** What the examples in each command's --help use. */
const SAMPLE: Record<Role, { name: string; location: string; option: string; uses: string[] }> = {
  store: {
    name: 'home',
    location: '/var/backups',
    option: 'passphrase_cmd="pass show kloud"',
    uses: ['kloud at @home ls', 'kloud at @home:/srv/other-store info'],
  },
  source: {
    name: 'web',
    location: 'sftp://deploy@web1/srv/www',
    option: 'identity=~/.ssh/deploy_key',
    uses: ['kloud backup @web', 'kloud backup @web:html @web:/etc/nginx'],
  },
  destination: {
    name: 'scratch',
    location: 's3://my-bucket/restores',
    option: 'region=eu-west-1',
    uses: ['kloud restore latest --to @scratch:today', 'kloud restore latest --to @scratch:/elsewhere'],
  },
};

type Subcommand = 'add' | 'set' | 'unset' | 'show' | 'ls' | 'rm' | 'default';

function examples(role: Role, sub?: Subcommand): string {
  const { name, location, option, uses } = SAMPLE[role];
  const key = option.split('=')[0];
  const bySub: Record<Subcommand, string[]> = {
    add: [`kloud ${role} add ${name} ${location} ${option}`],
    set: [`kloud ${role} set ${name} ${option}`, `kloud ${role} set ${name} location=${location}-new`],
    unset: [`kloud ${role} unset ${name} ${key}`],
    show: [`kloud ${role} show ${name} --secrets`, `kloud ${role} show --json`],
    ls: [`kloud ${role} ls`],
    rm: [`kloud ${role} rm ${name}`],
    default: [`kloud ${role} default ${name}`],
  };
  const lines = sub === undefined ? [...bySub.add, ...bySub.default, ...uses] : bySub[sub];
  return `\nExamples:\n${lines.map((line) => `  ${line}`).join('\n')}`;
}

export function registerAliasCommands(program: Command, ctx: CommandContext): void {
  for (const role of ROLES) registerRole(program, role, ctx);
}

function registerRole(program: Command, role: Role, ctx: CommandContext): void {
  const group = program
    .command(role)
    .description(`manage ${role} aliases (used as @NAME)`)
    .addHelpText('after', examples(role));
  group.hook('preAction', () => {
    if (ctx.at !== undefined) {
      throw usageError(`'at ${ctx.at}' does not apply to '${role}' commands`, `drop it: kloud ${role} ...`);
    }
  });
  const sub = (name: Subcommand, description: string) =>
    group.command(name).description(description).addHelpText('after', examples(role, name));
  registerChanges(sub, role, ctx);
  registerReads(sub, role, ctx);
}

type SubcommandFactory = (name: Subcommand, description: string) => Command;

/** Applies one edit to the config and saves it; with `role`, only if the alias can then be used as one. */
async function change(ctx: CommandContext, edit: (book: AliasBook) => Alias, role?: Role): Promise<Alias> {
  const alias = edit(await ctx.aliases());
  if (role !== undefined) await refuseUnusableAlias(role, alias);
  await (await ctx.configFile()).save();
  return alias;
}

function registerChanges(sub: SubcommandFactory, role: Role, ctx: CommandContext): void {
  sub('add', `add a ${role} alias`)
    .argument('<name>', 'alias name, used as @NAME')
    .argument('<location>', 'path, fs:/path, s3://bucket/prefix or sftp://user@host:port/path')
    .argument('[options...]', 'key=value settings')
    .action(async (name: string, location: string, args: string[], _opts, command: Command) => {
      checkName(name);
      const options = parseKeyValues(args);
      if ('location' in options) throw usageError('the location is given twice', 'drop location=...');
      const canonical = canonicalLocation(location, ctx);
      const alias = await change(ctx, (book) => book.add(role, name, canonical, options), role);
      ctx.output(command).print(view(alias, false), () => `added ${role} ${name}: ${canonical}`);
      notePassphrase(ctx, command, role, name, options);
    });

  sub('set', `change settings of a ${role} alias`)
    .argument('<name>', 'alias name')
    .argument('<options...>', 'key=value settings (location=... moves the alias)')
    .action(async (name: string, args: string[], _opts, command: Command) => {
      const options = parseKeyValues(args);
      if (options.location !== undefined) options.location = canonicalLocation(options.location, ctx);
      const alias = await change(ctx, (book) => book.set(role, name, options), role);
      const keys = Object.keys(options).join(', ');
      ctx.output(command).print(view(alias, false), () => `updated ${role} ${name}: ${keys}`);
      notePassphrase(ctx, command, role, name, options);
    });

  sub('unset', `remove settings from a ${role} alias`)
    .argument('<name>', 'alias name')
    .argument('<keys...>', 'setting names')
    .action(async (name: string, args: string[], _opts, command: Command) => {
      const keys = parseKeys(args);
      const alias = await change(ctx, (book) => book.unset(role, name, keys), role);
      ctx.output(command).print(view(alias, false), () => `removed from ${role} ${name}: ${keys.join(', ')}`);
    });

  sub('rm', `remove a ${role} alias (the ${role} itself is not touched)`)
    .argument('<name>', 'alias name')
    .action(async (name: string, _opts, command: Command) => {
      await change(ctx, (book) => book.remove(role, name));
      ctx.output(command).print({ name, removed: true }, () => `removed ${role} alias ${name}`);
    });

  sub('default', `make an alias the default ${role}`)
    .argument('<name>', 'alias name')
    .action(async (name: string, _opts, command: Command) => {
      const alias = await change(ctx, (book) => book.setDefault(role, name));
      ctx.output(command).print(view(alias, false), () => `default ${role}: ${name} (${alias.location})`);
    });
}

function registerReads(sub: SubcommandFactory, role: Role, ctx: CommandContext): void {
  sub('show', `show ${role} aliases with their settings (secrets masked)`)
    .argument('[name]', 'one alias; all when omitted')
    .option('--secrets', 'show secrets in clear')
    .action(async (name: string | undefined, opts: { secrets?: boolean }, command: Command) => {
      const book = await ctx.aliases();
      const shown = name === undefined ? book.list(role) : [book.get(role, name)];
      const views = shown.map((alias) => view(alias, opts.secrets === true));
      const out = ctx.output(command);
      if (name === undefined) out.print(views, (all) => all.map(describe).join('\n'));
      else out.print(views[0], describe);
    });

  sub('ls', `list ${role} aliases`).action(async (_opts, command: Command) => {
    const views = (await ctx.aliases()).list(role).map((alias) => view(alias, false));
    ctx.output(command).print(views, (all) => table(all, role));
  });
}

function checkName(name: string): void {
  if (!NEW_ALIAS_NAME.test(name)) {
    throw usageError(
      `bad alias name "${name.length > 70 ? `${name.slice(0, 64)}…` : name}"`,
      'use up to 64 letters, digits, ".", "_" and "-", starting with a letter or digit',
    );
  }
}

function canonicalLocation(text: string, ctx: CommandContext): string {
  if (text.startsWith('@'))
    throw usageError(`an alias cannot point to another alias (${text})`, 'give a path or URL');
  return locationText(parseLocation(text, { cwd: ctx.runtime.cwd, home: ctx.runtime.env.HOME }));
}

function notePassphrase(
  ctx: CommandContext,
  command: Command,
  role: Role,
  name: string,
  options: object,
): void {
  if (role !== 'store' || !('passphrase' in options || 'passphrase_cmd' in options)) return;
  ctx
    .output(command)
    .note(
      `note: this only changes the config; the store's own key is unchanged (to change it: kloud at @${name} passwd)`,
    );
}

function view(alias: Alias, secrets: boolean): AliasView {
  const options = Object.fromEntries(
    Object.entries(alias.options).map(([key, value]) => [key, !secrets && isSecretKey(key) ? MASK : value]),
  );
  return { name: alias.name, location: alias.location, default: alias.isDefault, options };
}

function describe(alias: AliasView): string {
  const settings = Object.entries({ location: alias.location, ...alias.options });
  const title = alias.default ? `${alias.name} (default)` : alias.name;
  return [title, ...settings.map(([key, value]) => `  ${key}: ${value}`)].join('\n');
}

function table(aliases: AliasView[], role: Role): string {
  if (aliases.length === 0) return `no ${role} aliases (add one with: kloud ${role} add NAME LOCATION)`;
  const width = Math.max(...aliases.map((a) => a.name.length));
  return aliases.map((a) => `${a.default ? '*' : ' '} ${a.name.padEnd(width)}  ${a.location}`).join('\n');
}

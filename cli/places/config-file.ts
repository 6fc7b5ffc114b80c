/**
 * The user's config file (`$XDG_CONFIG_HOME/kloud/config.yaml`): where it lives, how it is read and
 * validated, and how it is written (mode 0600, atomically). The YAML document is kept as parsed, so
 * the user's own comments and layout survive a `kloud store set`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { Document, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { CliError, systemReason } from '../failures/errors.js';

/** Names of aliases already in a config file: any length, so a file written by an older kloud still loads. */
export const ALIAS_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Names given to new aliases. */
export const NEW_ALIAS_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const OPTION_KEY = /^[a-z][a-z0-9_]*$/;

const optionValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const aliasSchema = z
  .object({ location: z.string().min(1, 'location must not be empty') })
  .catchall(optionValue)
  .superRefine((alias, ctx) => {
    for (const key of Object.keys(alias)) {
      if (!OPTION_KEY.test(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" is not a valid option name` });
      }
    }
  });

const aliasMap = z.record(
  z.string().regex(ALIAS_NAME, 'alias names use letters, digits, ".", "_" and "-"'),
  aliasSchema,
);

/**
 * A control plane `kloud remote` calls (`kloud remote add`): its URL and how requests are
 * authorized, with a bearer token (local mode) or SigV4 from the AWS credential chain.
 */
const remoteSchema = z
  .strictObject({
    url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
    token: z.string().min(1).optional(),
    aws: z.boolean().optional(),
    region: z.string().min(1).optional(),
    profile: z.string().min(1).optional(),
  })
  .refine(
    (remote) => !(remote.token !== undefined && remote.aws),
    'a remote has a token or aws: true, not both',
  );

const configSchema = z.strictObject({
  version: z.literal(1).optional(),
  defaults: z
    .strictObject({ store: z.string(), source: z.string(), destination: z.string() })
    .partial()
    .optional(),
  stores: aliasMap.optional(),
  sources: aliasMap.optional(),
  destinations: aliasMap.optional(),
  remotes: z
    .record(z.string().regex(ALIAS_NAME, 'remote names use letters, digits, ".", "_" and "-"'), remoteSchema)
    .optional(),
});

type Config = z.infer<typeof configSchema>;
export type AliasEntry = z.infer<typeof aliasSchema>;
export type RemoteEntry = z.infer<typeof remoteSchema>;

export function configPath(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'kloud', 'config.yaml');
  if (!env.HOME) {
    throw new CliError('cannot find the config directory', 'set HOME or XDG_CONFIG_HOME');
  }
  return join(env.HOME, '.config', 'kloud', 'config.yaml');
}

export class ConfigFile {
  private constructor(
    readonly path: string,
    readonly doc: Document,
  ) {}

  static async load(path: string): Promise<ConfigFile> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new ConfigFile(path, new Document({}));
      throw new CliError(`cannot read config file ${path}: ${systemReason(err)}`, 'check its permissions');
    }
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
    const syntax = doc.errors[0];
    if (syntax) {
      // an unclosed quote or bracket is reported past the end: point at the last line instead
      const line = Math.min(lines.linePos(syntax.pos[0]).line, text.trimEnd().split('\n').length);
      throw badConfig(path, line, syntax.message.split('\n')[0]);
    }
    const parsed = configSchema.safeParse(doc.toJS() ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      throw badConfig(path, lineOf(doc, lines, issue.path), `${where}${issue.message}`);
    }
    return new ConfigFile(path, doc);
  }

  /** The validated content; mutations go through `doc` and are visible here at once. */
  get data(): Config {
    return configSchema.parse(this.doc.toJS() ?? {});
  }

  /** Writes the whole file to a temporary sibling, then renames it over the old one. */
  async save(): Promise<void> {
    const dir = dirname(this.path);
    const tmp = join(dir, `.config.yaml.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const handle = await open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(this.doc.toString());
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw new CliError(
        `cannot write config file ${this.path}: ${systemReason(err)}`,
        'check the permissions of its directory',
      );
    }
  }
}

function badConfig(path: string, line: number, reason: string): CliError {
  return new CliError(
    `bad config file ${path}, line ${line}: ${reason}`,
    'fix that line (or move the file away to start afresh)',
  );
}

/** The line of the deepest node that exists on the issue's path (a missing key points at its parent). */
function lineOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return lines.linePos(node.range[0]).line;
  }
  return 1;
}

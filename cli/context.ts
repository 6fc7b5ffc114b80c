/** What every command can reach: the process's streams and environment, the config, the output. */
import type { Command } from 'commander';
import { AliasBook } from './places/aliases.js';
import { ConfigFile, configPath } from './places/config-file.js';
import { EXIT, type ExitCode } from './failures/errors.js';
import { Output } from './text/output.js';
import type { PlaceContext } from './places/places.js';

export interface Runtime {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** The global options commands read (`--debug` is read by main, before commander runs). */
export interface GlobalOptions {
  json?: boolean;
  passphraseFile?: string;
}

export class CommandContext {
  /** Set by commands whose outcome is not plain success (partial backup, damage found). */
  exitCode: ExitCode = EXIT.ok;
  private config?: Promise<ConfigFile>;

  constructor(
    readonly runtime: Runtime,
    /** The `at LOCATION` prefix, when given. */
    readonly at: string | undefined,
  ) {}

  /** The config file, read once, on first use. */
  configFile(): Promise<ConfigFile> {
    this.config ??= ConfigFile.load(configPath(this.runtime.env));
    return this.config;
  }

  async aliases(): Promise<AliasBook> {
    return new AliasBook(await this.configFile());
  }

  places(): PlaceContext {
    const { env, cwd } = this.runtime;
    return { env, cwd, home: env.HOME, aliases: () => this.aliases() };
  }

  options(command: Command): GlobalOptions {
    return command.optsWithGlobals<GlobalOptions>();
  }

  output(command: Command): Output {
    return new Output(this.runtime.stdout, this.runtime.stderr, this.options(command).json === true);
  }
}

import { losslessNames } from './name-text.js';

/**
 * What a command prints. With `--json`, stdout carries exactly one JSON document, or one JSON object
 * per line for streams, and nothing else; people get text. Notes go to stderr either way.
 */
export class Output {
  constructor(
    private readonly stdout: NodeJS.WritableStream,
    private readonly stderr: NodeJS.WritableStream,
    readonly json: boolean,
  ) {}

  /** The command's answer, or one element of a streamed answer (then `--json` makes NDJSON). */
  print<T>(value: T, human: (value: T) => string): void {
    this.stdout.write(this.json ? `${JSON.stringify(value, losslessNames)}\n` : withNewline(human(value)));
  }

  /** Raw bytes on stdout (`cat` without `--json`). */
  write(chunk: Buffer): Promise<void> {
    return new Promise((done, fail) => this.stdout.write(chunk, (err) => (err ? fail(err) : done())));
  }

  /** Side information for people: never on stdout. */
  note(text: string): void {
    this.stderr.write(withNewline(text));
  }
}

function withNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}

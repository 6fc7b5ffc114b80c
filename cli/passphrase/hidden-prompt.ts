/** Reads one line from a terminal without echoing it (for passphrases). */
import { CliError } from '../failures/errors.js';

/** The part of a TTY read stream the prompt needs, so tests can hand in their own. */
export interface TerminalInput {
  isTTY?: boolean;
  setRawMode(mode: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  removeListener(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

const ENTER = new Set(['\r', '\n']);
const ERASE = new Set(['\x7f', '\b']);
const CANCEL = new Set(['\x03', '\x04']);
/** Arrow and function keys send ESC, parameters, then a final letter or `~`: all skipped. */
const ESCAPE = '\x1b';
const ESCAPE_END = /[A-Za-z~]/;

export function readHidden(
  question: string,
  input: TerminalInput,
  output: NodeJS.WritableStream,
): Promise<string> {
  // echo goes off before the question shows, so even an answer typed at once is never echoed
  input.setRawMode(true);
  output.write(question);
  input.resume();
  return new Promise((resolve, reject) => {
    let chars: string[] = [];
    let escaping = false;
    const finish = (outcome: () => void) => {
      input.removeListener('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      outcome();
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString()) {
        if (escaping) {
          escaping = !ESCAPE_END.test(char);
          continue;
        }
        escaping = char === ESCAPE;
        if (ENTER.has(char)) return finish(() => resolve(chars.join('')));
        if (CANCEL.has(char)) {
          return finish(() => reject(new CliError('passphrase entry cancelled', 'run the command again')));
        }
        if (ERASE.has(char)) chars = chars.slice(0, -1);
        else if (char >= ' ') chars.push(char);
      }
    };
    input.on('data', onData);
  });
}

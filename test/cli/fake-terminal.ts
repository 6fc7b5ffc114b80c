/**
 * A terminal stand-in for the prompt: it records raw-mode switches and what was shown, and types
 * the next queued answer each time a prompt starts listening.
 */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';

export class FakeTerminal extends EventEmitter {
  readonly rawModes: boolean[] = [];
  output = '';
  readonly screen = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      this.output += chunk.toString();
      done();
    },
  });

  /**
   * Each answer is the keys typed at one prompt, delivered in one or more chunks. With `isTTY`
   * false it plays a pipe, and using it as a terminal throws.
   */
  constructor(
    private readonly answers: string[][] = [],
    readonly isTTY = true,
  ) {
    super();
  }

  setRawMode(mode: boolean): this {
    if (!this.isTTY) throw new Error('setRawMode on a pipe');
    this.rawModes.push(mode);
    return this;
  }

  resume(): this {
    const keys = this.answers.shift() ?? [];
    setImmediate(() => {
      for (const chunk of keys) this.emit('data', Buffer.from(chunk));
    });
    return this;
  }

  pause(): this {
    return this;
  }
}

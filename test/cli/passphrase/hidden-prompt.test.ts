import { readHidden } from '../../../cli/passphrase/hidden-prompt.js';
import { FakeTerminal } from '../fake-terminal.js';

test('reads a line in raw mode without echoing it, and restores the terminal', async () => {
  const tty = new FakeTerminal([['sec', 'ret\r']]);
  await expect(readHidden('Passphrase: ', tty, tty.screen)).resolves.toBe('secret');
  expect(tty.output).toBe('Passphrase: \n');
  expect(tty.rawModes).toEqual([true, false]);
  expect(tty.listenerCount('data')).toBe(0);
});

test('backspace erases the last character; control keys and arrow keys are ignored', async () => {
  const tty = new FakeTerminal([['ab\x7fc\x1b[D\x01d\bé\n']]);
  await expect(readHidden('? ', tty, tty.screen)).resolves.toBe('acé');
});

test('Ctrl-C cancels the prompt and restores the terminal', async () => {
  const tty = new FakeTerminal([['abc\x03']]);
  await expect(readHidden('? ', tty, tty.screen)).rejects.toMatchObject({
    what: 'passphrase entry cancelled',
  });
  expect(tty.rawModes).toEqual([true, false]);
});

import { splitCommandWords } from '../../../cli/passphrase/command-words.js';

test.each([
  ['pass show kloud', ['pass', 'show', 'kloud']],
  ['  cat   /run/secret  ', ['cat', '/run/secret']],
  [`printf '%s' "a b"`, ['printf', '%s', 'a b']],
  [`echo "say \\"hi\\"" it\\'s`, ['echo', 'say "hi"', "it's"]],
  [`echo '' "$HOME" *`, ['echo', '', '$HOME', '*']],
])('%s splits into %j without expanding anything', (text, words) => {
  expect(splitCommandWords(text)).toEqual(words);
});

test('an unclosed quote is a usage error', () => {
  expect(() => splitCommandWords(`echo 'oops`)).toThrow(expect.objectContaining({ exitCode: 2 }));
});

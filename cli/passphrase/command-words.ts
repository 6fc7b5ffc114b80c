/**
 * Splits a `passphrase_cmd` into program and arguments, so it runs without a shell: words are
 * separated by blanks, quotes group them, a backslash escapes the next character; nothing is expanded.
 */
import { usageError } from '../failures/errors.js';

export function splitCommandWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      word ??= '';
    } else if (char === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i];
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + char;
    }
  }
  if (quote) throw usageError(`unclosed ${quote} in command "${text}"`, 'close the quote');
  if (word !== undefined) words.push(word);
  return words;
}

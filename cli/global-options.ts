/**
 * The options every command takes: one table for the program's definition and for taking
 * `at LOCATION` out of the arguments (which must skip the values of these options).
 */
export const GLOBAL_OPTIONS: readonly (readonly [flags: string, description: string])[] = [
  ['--json', 'machine-readable output on stdout (one JSON document, or NDJSON for streams)'],
  ['--debug', 'print the stack trace of errors'],
  ['--passphrase-file <file>', 'read the store passphrase from FILE'],
];

/** The global options that take a value, as written: `--passphrase-file`. */
export const VALUED_OPTIONS: ReadonlySet<string> = new Set(
  GLOBAL_OPTIONS.filter(([flags]) => flags.includes(' <')).map(([flags]) => flags.split(' ')[0]!),
);

/**
 * What the engine needs to reach a store app's location: the location string, the connector
 * options, and files some options name (an SFTP key, a known_hosts line), given by content and
 * written only for the duration of one engine call (engine/kloset-adapter.ts).
 */
export interface ConnectorTarget {
  /** the engine's location string (may be an absolute local path) */
  readonly location: string;
  /** the location without secrets: safe in answers and logs */
  readonly printable: string;
  readonly options: Record<string, string>;
  /** option name → file content; the adapter sets the option to the written file's path */
  readonly files: Record<string, string>;
}

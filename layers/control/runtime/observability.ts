/**
 * Powertools logger, tracer and metrics for every function (service and namespace from
 * POWERTOOLS_* variables). The logger blanks secret fields wherever they appear in a log line.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

const SECRET_FIELD =
  /passphrase|password|secret|credential|private_?key|privatekey|access_?key|session_?token|authorization|identity/i;

export const REDACTED = '[redacted]';

/** JSON.stringify replacer: a secret field keeps its name, never its value. */
export function redactSecrets(key: string, value: unknown): unknown {
  return key !== '' && SECRET_FIELD.test(key) && value !== undefined && value !== null ? REDACTED : value;
}

export const logger = new Logger({ jsonReplacerFn: redactSecrets });
export const tracer = new Tracer();
export const metrics = new Metrics();

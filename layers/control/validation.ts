/** zod results as the API's answers: the first problems, each naming the field that has it. */
import type { z } from 'zod';
import { ApiError, BadRequest } from './errors.js';

const SHOWN_ISSUES = 3;

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined),
    input,
  );
}

function describe(issue: z.core.$ZodIssue, where: string, input: unknown): string {
  const path = [where, ...issue.path.map(String)].filter(Boolean).join('.');
  if (issue.code === 'unrecognized_keys')
    return `${path}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code !== 'custom' && valueAt(input, issue.path) === undefined) return `${path}: required`;
  return `${path}: ${issue.message}`;
}

/**
 * The parsed value, or the caller's error (400 by default) listing what is wrong. `where` names
 * the part of the request (body, query, path, body.configuration).
 */
export function parseInput<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: string,
  error: (message: string) => ApiError = (m) => new BadRequest(m, 'INVALID_INPUT'),
): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const more = issues.length > SHOWN_ISSUES ? ` (and ${issues.length - SHOWN_ISSUES} more)` : '';
  throw error(
    issues
      .slice(0, SHOWN_ISSUES)
      .map((i) => describe(i, where, value))
      .join('; ') + more,
  );
}

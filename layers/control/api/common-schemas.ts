/** Schemas every part of the API shares: pagination and the error answer. */
import { z } from 'zod';

export const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 25;

export const PageQuery = z.strictObject({
  limit: z.coerce
    .number({ error: 'limit must be a whole number' })
    .int('limit must be a whole number')
    .min(1, 'limit must be at least 1')
    .max(MAX_PAGE_SIZE, `limit must be at most ${MAX_PAGE_SIZE}`)
    .default(DEFAULT_PAGE_SIZE)
    .meta({ description: `items per page (1-${MAX_PAGE_SIZE}, default ${DEFAULT_PAGE_SIZE})` }),
  nextToken: z
    .string()
    .max(2048)
    .optional()
    .meta({ description: 'the nextToken of the previous page, as given' }),
});
export type PageQuery = z.infer<typeof PageQuery>;

/** A page of `item`: `nextToken` is present when there is more. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextToken: z.string().optional() });
}

export const ErrorAnswer = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'stable, for programs' }),
      message: z.string().meta({ description: 'what is wrong and what to do, for people' }),
    }),
  })
  .meta({ id: 'Error' });

export const NoContent = z.void();

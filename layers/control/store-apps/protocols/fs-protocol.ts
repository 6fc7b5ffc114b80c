/** The `fs` protocol (local mode): a directory below the directories inventory's root. */
import { join } from 'node:path';
import { z } from 'zod';
import type { ConnectorTarget } from '../../engine/connector-target.js';

export const FsConfiguration = z
  .strictObject({
    path: z
      .string()
      .max(1024)
      .regex(/^(?!\/)(?!(.*\/)?\.\.?(\/|$))[^\\]*$/, 'expected a relative path without . or .. segments')
      .optional()
      .meta({ description: 'a subdirectory of the resource (default: the resource itself)' }),
  })
  .meta({ id: 'FsConfiguration' });

export function fsTarget(directory: string, config: z.infer<typeof FsConfiguration>): ConnectorTarget {
  const location = config.path ? join(directory, config.path) : directory;
  return { location, printable: location, options: {}, files: {} };
}

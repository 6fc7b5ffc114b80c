/** The `fs` protocol (local mode): a directory below the directories inventory's root. */
import { resolve, sep } from 'node:path';
import { z } from 'zod';
import type { ConnectorTarget } from '../../engine/connector-target.js';
import { Forbidden } from '../../errors.js';
import { isPlainRelativePath, PLAIN_RELATIVE_PATH } from './relative-path.js';

export const FsConfiguration = z
  .strictObject({
    path: z
      .string()
      .max(1024)
      .refine(isPlainRelativePath, `expected ${PLAIN_RELATIVE_PATH}`)
      .optional()
      .meta({ description: 'a subdirectory of the resource (default: the resource itself)' }),
  })
  .meta({ id: 'FsConfiguration' });

export function fsTarget(directory: string, config: z.infer<typeof FsConfiguration>): ConnectorTarget {
  const location = config.path ? resolve(directory, config.path) : directory;
  // the schema already refuses escapes; this holds whatever a stored configuration says
  if (location !== directory && !location.startsWith(directory + sep))
    throw new Forbidden(`${config.path} is outside its directory resource`, 'LOCATION_NOT_ALLOWED');
  return { location, printable: location, options: {}, files: {} };
}

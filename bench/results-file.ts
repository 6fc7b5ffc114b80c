import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `2025-11-23T19-30-05Z`: sortable, and valid in a file name on every OS. */
export function fileTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

/** Writes `<dir>/<timestamp><suffix>.json` and returns its path. */
export async function writeResultsFile(
  dir: string,
  startedAt: Date,
  suffix: string,
  data: unknown,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${fileTimestamp(startedAt)}${suffix}.json`);
  await writeFile(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

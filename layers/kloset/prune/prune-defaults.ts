/** prune's defaults, apart from its code: the CLI shows them in its help without loading the engine. */

/** Long enough for any backup to finish: a backup open for longer than this may lose blobs. */
export const DEFAULT_GRACE_MS = 24 * 3600 * 1000;

/**
 * A pack is rewritten when at least this share of its blobs' bytes is unused: the store then
 * wastes at most a fifth of a partly used pack, and a repack writes at most 4 bytes for each byte
 * it frees (restic's default keeps 5% of the whole repository unused, and rewrites as needed).
 */
export const DEFAULT_REPACK_THRESHOLD = 0.2;

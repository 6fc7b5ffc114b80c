import type { ListedKind, ObjectKind } from '../core/store-backend.js';

/** The folders of a store on a medium with folders, plus `tmp` for writes in flight. */
export const STORE_FOLDERS: readonly (ListedKind | 'tmp')[] = ['keys', 'index', 'packs', 'plans', 'tmp'];

/**
 * Where an object lives below a store's root, on every medium (docs/FORMAT.md, "Layout"):
 * `config`, `keys/NAME`, `index/NAME`, `plans/NAME`, `packs/FIRST-2-HEX/NAME` (packs are many: one level more).
 */
export function objectPath(kind: ObjectKind, name: string): string {
  if (kind === 'config') return 'config';
  if (kind === 'packs') return `packs/${name.slice(0, 2)}/${name}`;
  return `${kind}/${name}`;
}

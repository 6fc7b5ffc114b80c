import type { ObjectInfo } from '../core/store-backend.js';

const DAY_MS = 24 * 3600 * 1000;
const GIB = 2 ** 30;

/** What deleting an archived pack now costs beyond its storage so far. */
export interface EarlyDeletion {
  /** the archive class, as the store names it */
  readonly archive: string;
  /** days short of the class's minimum storage duration */
  readonly daysShort: number;
  /** the storage of those days, billed at deletion (list price, estimate) */
  readonly usd: number;
}

/**
 * Archive classes bill a minimum storage duration (90 days for Glacier, 180 for Deep Archive): an
 * object deleted younger is billed for the days it is short of it. The age is the listing's
 * last-modified time; a store that gives none is taken to have just written it (the most it can cost).
 */
export function earlyDeletion(pack: ObjectInfo, now: number): EarlyDeletion | undefined {
  const terms = pack.archive;
  if (!terms) return undefined;
  const ageDays = pack.modifiedAt === undefined ? 0 : (now - pack.modifiedAt) / DAY_MS;
  const daysShort = Math.max(0, Math.ceil(terms.minimumStorageDays - ageDays));
  if (daysShort === 0) return undefined;
  return { archive: terms.name, daysShort, usd: ((pack.size / GIB) * terms.usdPerGiBMonth * daysShort) / 30 };
}

import { z } from 'zod';
import { KlosetError } from '../core/errors.js';
import { decodeVersionedJson } from '../core/versioned-json.js';
import { BlobType } from '../format/blob.js';
import { ObjectType, openObject, sealObject } from '../format/object.js';
import type { Repository } from './repository.js';

/**
 * A prune plan: the packs one prune run found unreferenced.
 * A later run deletes those packs once the plan is older than the grace period; until then,
 * writers treat the planned packs' blobs as absent (they store them again rather than reuse them),
 * so no snapshot committed after a writer saw the plan can depend on a planned pack.
 */
export const PRUNE_PLAN_VERSION = 1;

const planSchema = z.object({
  v: z.number().int(),
  /** ISO 8601: when the plan was written (after the walk that found the packs unreferenced) */
  createdAt: z.string(),
  /** hex names of the packs no visible snapshot referenced */
  packs: z.array(z.string().regex(/^[0-9a-f]{64}$/)),
});
export type PrunePlanBody = z.infer<typeof planSchema>;

export interface PrunePlan extends PrunePlanBody {
  readonly name: string;
}

const FORMAT = { name: 'prune plan', versionField: 'v', version: PRUNE_PLAN_VERSION, schema: planSchema };

export async function writePrunePlan(repo: Repository, body: PrunePlanBody): Promise<string> {
  const payload = Buffer.from(JSON.stringify(body));
  const sealed = sealObject(
    ObjectType.PrunePlan,
    repo.cipher.seal(BlobType.IndexDelta, undefined, [payload]),
    repo.mac.authenticator,
  );
  await repo.backend.put('plans', sealed.name, sealed.parts);
  return sealed.name;
}

export interface PrunePlans {
  readonly plans: PrunePlan[];
  /** names of the plans that are damaged */
  readonly damaged: string[];
}

/**
 * Every plan of the store. A damaged plan is safe to ignore: the packs it named are no longer
 * planned, so nothing is deleted until a new plan names them and its grace period passes.
 */
export async function readPrunePlans(repo: Repository): Promise<PrunePlans> {
  const plans: PrunePlan[] = [];
  const damaged: string[] = [];
  for await (const { name } of repo.backend.list('plans')) {
    const what = `prune plan ${name.slice(0, 12)}`;
    let data: Buffer;
    try {
      data = await repo.backend.get('plans', name);
    } catch (err) {
      // consumed by a prune since it was listed
      if ((await repo.backend.stat('plans', name)) === undefined) continue;
      throw err;
    }
    try {
      const { body } = openObject(data, ObjectType.PrunePlan, repo.mac.authenticator, what, name);
      const plain = repo.cipher.open(BlobType.IndexDelta, undefined, body, what);
      plans.push({ name, ...decodeVersionedJson(plain, FORMAT, what) });
    } catch (err) {
      if (!(err instanceof KlosetError) || err.code !== 'CORRUPT') throw err;
      damaged.push(name);
    }
  }
  return { plans, damaged };
}

/** The packs some plan names: writers must not reuse the blobs they hold. */
export function plannedPacks(plans: readonly PrunePlan[]): Set<string> {
  return new Set(plans.flatMap((p) => p.packs));
}

/** `kloud remote restore --dry-run`: what a restore needs from archive storage, and per tier what it takes and costs. */
import type { RetrievalPlan } from '../../layers/control/tasks/restore/restore-parameters.js';
import { cost, typicalTime } from '../../layers/control/engine/retrieval-needed.js';
import { formatBytes, plural } from '../text/human-units.js';

export function retrievalPlanText(plan: RetrievalPlan): string {
  const head = `snapshot ${plan.snapshot.slice(0, 8)}`;
  if (plan.archivedPacks === 0) return `${head}: nothing is in archive storage; the restore starts at once`;
  const lines = [
    `${head}: ${plural(plan.archivedPacks, 'data pack')} (${formatBytes(plan.archivedBytes)}) in archive storage (${plan.archives.join(', ')}), ${plan.readyPacks} readable now`,
    ...plan.tiers.map(
      (t) => `  ${t.tier.padEnd(9)}  typically ${typicalTime(t.hours)}, ${cost(t.costUsd)} (AWS list prices)`,
    ),
  ];
  return lines.join('\n');
}

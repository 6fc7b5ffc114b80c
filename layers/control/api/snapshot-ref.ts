/** A snapshot as a request names it: `latest`, a full ID or a unique prefix of one. */
import { z } from 'zod';

export const SnapshotRef = z
  .string()
  .regex(
    /^(latest|[0-9a-f]{4,64})$/,
    'expected latest, a snapshot ID or a unique prefix of one (4+ hex digits)',
  )
  .meta({ description: 'latest, a snapshot ID or a unique prefix of one (4+ hex digits)' });

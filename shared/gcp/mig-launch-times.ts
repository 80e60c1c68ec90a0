import { mapLimit } from '../domain/map-limit.ts';
import type { NarrowLogger } from '../ports/logger.ts';
import { describeGoogleError } from './google-errors.ts';
import { listZoneInstances, type MigClients } from './mig-calls.ts';

/** A VM by where it lives: instance names are unique within a project's zone. */
export interface InstanceRef {
  readonly project: string;
  readonly zone: string;
  readonly name: string;
}

export const instanceKey = (ref: InstanceRef): string => `${ref.project}/${ref.zone}/${ref.name}`;

/**
 * Characters of filter per `instances.list`. The filter travels in the query string, and 4,000 characters (about 100
 * names) stays far below the URL lengths Google's front end is known to accept; bigger zones take more calls.
 */
const MAX_FILTER_CHARS = 4_000;
/** `(name = "…") OR ` around each name. */
const TERM_OVERHEAD_CHARS = 15;
/** Zones read at once, as groups are described at once: Compute meters reads per minute per project. */
const READ_CONCURRENCY = 8;

/**
 * When each VM was created (epoch ms), by `instanceKey`. `listManagedInstances` does not say, so this reads
 * `instances.list` once per zone for the VMs of every described group there, filtered to their names: a regional
 * group costs one call per zone it uses, and groups sharing a zone share the call. `aggregatedList` would be one call
 * per project, but its answer carries an entry for every zone of every region, nearly all empty, on every cycle.
 *
 * A zone that cannot be read leaves its VMs without a time rather than failing the describe: only the order in which
 * idle instances are removed depends on it.
 */
export async function creationTimes(
  clients: MigClients,
  refs: readonly InstanceRef[],
  context: { readonly logger: NarrowLogger; readonly signal?: AbortSignal | undefined },
): Promise<ReadonlyMap<string, number>> {
  const times = new Map<string, number>();
  await mapLimit(batches(refs), READ_CONCURRENCY, async ({ project, zone, names }) => {
    try {
      const instances = await listZoneInstances(clients, project, zone, names, context.signal);
      for (const instance of instances) {
        const createdAt = Date.parse(instance.creationTimestamp ?? '');
        if (instance.name && Number.isFinite(createdAt)) {
          times.set(instanceKey({ project, zone, name: instance.name }), createdAt);
        }
      }
    } catch (error) {
      context.logger.warn('reading instance creation times failed', {
        project,
        zone,
        instances: names.length,
        reason: describeGoogleError(error),
      });
    }
  });
  return times;
}

interface Batch {
  readonly project: string;
  readonly zone: string;
  readonly names: string[];
  /** The filter's length so far. */
  chars: number;
}

/** One batch per zone, split where the filter would grow past its budget. */
function batches(refs: readonly InstanceRef[]): Batch[] {
  const byZone = new Map<string, Batch[]>();
  const seen = new Set<string>();
  for (const ref of refs) {
    if (seen.has(instanceKey(ref))) {
      continue;
    }
    seen.add(instanceKey(ref));
    const zoneKey = `${ref.project}/${ref.zone}`;
    const zoneBatches = byZone.get(zoneKey) ?? [];
    byZone.set(zoneKey, zoneBatches);
    const last = zoneBatches.at(-1);
    const chars = ref.name.length + TERM_OVERHEAD_CHARS;
    if (last !== undefined && last.chars + chars <= MAX_FILTER_CHARS) {
      last.names.push(ref.name);
      last.chars += chars;
    } else {
      zoneBatches.push({ project: ref.project, zone: ref.zone, names: [ref.name], chars });
    }
  }
  return [...byZone.values()].flat();
}

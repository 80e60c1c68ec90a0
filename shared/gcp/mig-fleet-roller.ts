import { createHash, randomUUID } from 'node:crypto';
import { type GcpGroupTarget, type GroupTarget, targetKey } from '../domain/fleet.ts';
import { instancesOf } from '../domain/roll.ts';
import { silentLogger } from '../observability/logger.ts';
import type { CallOptions } from '../ports/call-options.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { CloudApiError } from '../ports/errors.ts';
import type { FleetRoller, RollProgress, RollRequest, RollSettings, RollStart } from '../ports/fleet-roll.ts';
import type { NarrowLogger } from '../ports/logger.ts';
import { describeGoogleError, isNotFound, isTransientGoogleError } from './google-errors.ts';
import {
  getGroup,
  type InstanceGroupManager,
  listInstances,
  locationOf,
  type ManagedInstance,
  type MigClients,
  managedInstanceName,
} from './mig-calls.ts';
import { awaitOperation, deferralOf, operationFailure } from './mig-resize.ts';

/**
 * A MIG rolling replace, as `gcloud compute instance-groups managed rolling-action replace` does it: one `patch` that
 * keeps every version's template and target size but gives each a new `name`, with a PROACTIVE update policy whose
 * minimal action is REPLACE. Every VM then runs a version whose name differs from its group's, and the group replaces
 * them all, a few at a time, within `maxSurge`/`maxUnavailable`. The version name is the roll's name: a MIG keeps no
 * other record of an update, no id, no start or end time, and no failure state (an update that cannot progress, e.g.
 * for lack of quota, stays unreached until it can), so a roll is in progress until the group reports its version
 * target reached, then succeeded.
 */

/** Version names fleetplane writes start with this, then the roll's name. */
export const ROLL_VERSION_PREFIX = 'fleetplane-';
/**
 * Compute documents no syntax for a version name (gcloud's own are like `0/2025-03-01 12:00:00.000000+00:00`), so
 * fleetplane keeps to what every Compute name allows: lowercase letters, digits and hyphens, at most 63 characters.
 * 58 leaves room for the `-N` suffix that tells several versions apart. A rotation id (a UUID) fits unchanged.
 */
const MAX_BASE_LENGTH = 58;
/** Hex characters of the SHA-256 digest that keep a shortened or rewritten name unique. */
const DIGEST_LENGTH = 8;

/**
 * The version name a roll is written under: `fleetplane-<name>` when that is already a safe name, otherwise the same
 * lowercased and with other characters replaced, shortened if needed, and suffixed with a digest of the name, so two
 * names never share a version name. Deterministic: a retried start finds its own roll.
 */
export function rollVersionName(name: string): string {
  const plain = `${ROLL_VERSION_PREFIX}${name}`;
  if (/^[a-z0-9-]+$/.test(plain) && plain.length <= MAX_BASE_LENGTH) {
    return plain;
  }
  const safe = plain.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  const digest = createHash('sha256').update(name).digest('hex').slice(0, DIGEST_LENGTH);
  const head = safe.slice(0, MAX_BASE_LENGTH - DIGEST_LENGTH - 1).replace(/-+$/, '');
  return `${head}-${digest}`;
}

/** One name per version: the roll's own for a single version, numbered when there are several (names are unique). */
export function rollVersionNames(name: string, count: number): string[] {
  const base = rollVersionName(name);
  return count === 1 ? [base] : Array.from({ length: count }, (_, index) => `${base}-${index}`);
}

export interface MigFleetRollerOptions {
  readonly logger?: NarrowLogger;
  readonly clock?: Clock;
}

type Version = NonNullable<InstanceGroupManager['versions']>[number];
type Quantity = { fixed: number } | { percent: number };

export function createMigFleetRoller(clients: MigClients, options: MigFleetRollerOptions = {}) {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;

  function gcpTarget(target: GroupTarget, operation: string): GcpGroupTarget {
    if (target.cloud !== 'gcp') {
      throw new CloudApiError(operation, `${targetKey(target)} is not a GCE managed instance group`);
    }
    return target;
  }

  /** A failed read or write as the port's error: a missing group is final, throttling and outages are not. */
  function failure(operation: string, target: GcpGroupTarget, error: unknown, signal?: AbortSignal): CloudApiError {
    if (isNotFound(error)) {
      const missing = `no managed instance group named ${target.instanceGroupManager} in ${locationOf(target)} of project ${target.project}`;
      return new CloudApiError(operation, missing, { cause: error, retryable: false });
    }
    return new CloudApiError(operation, `${targetKey(target)}: ${describeGoogleError(error)}`, {
      cause: error,
      retryable: deferralOf(error) !== undefined || isTransientGoogleError(error, signal),
    });
  }

  async function read(operation: string, target: GcpGroupTarget, signal?: AbortSignal) {
    try {
      const [group, instances] = await Promise.all([
        getGroup(clients, target, signal),
        listInstances(clients, target, signal),
      ]);
      return { group, instances };
    } catch (error) {
      throw failure(operation, target, error, signal);
    }
  }

  /** Patches the group into a rolling replace and waits until Compute has taken the patch. */
  async function startReplace(
    target: GcpGroupTarget,
    versions: readonly Version[],
    limits: { readonly maxSurge: Quantity; readonly maxUnavailable: Quantity },
    request: RollRequest,
    signal?: AbortSignal,
  ): Promise<string> {
    const names = rollVersionNames(request.name, versions.length);
    const resource: InstanceGroupManager = {
      versions: versions.map((version, index) => {
        const size = settable(version.targetSize);
        return {
          name: names[index] ?? null,
          instanceTemplate: version.instanceTemplate ?? null,
          ...(size === undefined ? {} : { targetSize: size }),
        };
      }),
      updatePolicy: {
        type: 'PROACTIVE',
        // REPLACE even though only names change: anything less would relabel VMs in place, and a VM reads the executor
        // token only as it boots.
        minimalAction: 'REPLACE',
        mostDisruptiveAllowedAction: 'REPLACE',
        // SUBSTITUTE: new VMs under new names, which surge allows; RECREATE would keep names and refuse any surge.
        replacementMethod: 'SUBSTITUTE',
        ...limits,
      },
    };
    let operation: string;
    try {
      operation = await patchGroup(clients, target, resource, randomUUID(), signal);
    } catch (error) {
      throw failure('startRoll', target, error, signal);
    }
    // Losing track of it is retryable: a later start finds the roll by its name if the patch took.
    const latest = await awaitOperation(clients, target, operation, 'startRoll', signal);
    if (latest?.status !== 'DONE') {
      throw new CloudApiError(
        'startRoll',
        `${targetKey(target)}: operation ${operation} is still ${latest?.status ?? 'pending'}; a later start finds the roll if it took`,
        { retryable: true },
      );
    }
    const failed = operationFailure(latest);
    if (failed !== undefined) {
      throw new CloudApiError('startRoll', `${targetKey(target)}: operation ${operation} failed: ${failed.detail}`, {
        retryable: failed.contention || failed.serverFault,
      });
    }
    return operation;
  }

  return {
    async start(target: GroupTarget, request: RollRequest, callOptions: CallOptions = {}): Promise<RollStart> {
      const gcp = gcpTarget(target, 'startRoll');
      const { signal } = callOptions;
      const startedAt = clock();
      let group: InstanceGroupManager;
      try {
        group = await getGroup(clients, gcp, signal);
      } catch (error) {
        throw failure('startRoll', gcp, error, signal);
      }
      const versions = versionsOf(group);
      if (versions.length === 0) {
        throw new CloudApiError('startRoll', `${targetKey(gcp)}: the group names no instance template`);
      }
      const ours = rollVersionNames(request.name, versions.length);
      const mine = versions.every((version) => ours.includes(version.name ?? ''));
      if (mine || isUpdating(group)) {
        const { group: now, instances } = await read('startRoll', gcp, signal);
        return { started: false, why: mine ? 'already-started' : 'busy', roll: progressOf(now, instances) };
      }
      const size = targetSizeOf(group);
      const zones = gcp.region === undefined ? 1 : (group.distributionPolicy?.zones?.length ?? 0) || REGION_ZONES;
      const operation = await startReplace(gcp, versions, limitsFor(request.settings, size, zones), request, signal);
      logger.info('fleet roll started', {
        group: targetKey(gcp),
        roll: ours.join(','),
        size,
        operation,
        durationMs: clock() - startedAt,
      });
      // Nothing can be replaced yet: every VM must boot from the new version first.
      return {
        started: true,
        roll: {
          id: ours.join(','),
          state: size === 0 ? 'succeeded' : 'in-progress',
          remaining: size,
          percentComplete: size === 0 ? 100 : 0,
        },
      };
    },

    async latest(target: GroupTarget, callOptions: CallOptions = {}): Promise<RollProgress | undefined> {
      const gcp = gcpTarget(target, 'latestRoll');
      const { group, instances } = await read('latestRoll', gcp, callOptions.signal);
      const unnamed = versionsOf(group).every((version) => !version.name);
      // A group whose versions carry no name was never rolled by name; once it is on its versions, nothing is rolling.
      if (unnamed && isReached(group, instances)) {
        return undefined;
      }
      return progressOf(group, instances);
    },

    async members(target: GroupTarget, callOptions: CallOptions = {}): Promise<readonly string[]> {
      const gcp = gcpTarget(target, 'members');
      let instances: Awaited<ReturnType<typeof listInstances>>;
      try {
        instances = await listInstances(clients, gcp, callOptions.signal);
      } catch (error) {
        throw failure('members', gcp, error, callOptions.signal);
      }
      return instances.flatMap((instance) => {
        const name = managedInstanceName(instance);
        return name === undefined ? [] : [name];
      });
    },
  } satisfies FleetRoller;
}

/** The group's versions; a group described by its `instanceTemplate` alone has that one. */
function versionsOf(group: InstanceGroupManager): Version[] {
  if (group.versions && group.versions.length > 0) {
    return group.versions;
  }
  return group.instanceTemplate ? [{ instanceTemplate: group.instanceTemplate }] : [];
}

const targetSizeOf = (group: InstanceGroupManager): number => Math.max(0, group.targetSize ?? 0);

/** Another update the group is driving: replacing VMs proactively and not there yet. */
const isUpdating = (group: InstanceGroupManager): boolean =>
  group.updatePolicy?.type === 'PROACTIVE' && group.status?.versionTarget?.isReached === false;

function isReached(group: InstanceGroupManager, instances: readonly ManagedInstance[]): boolean {
  const versions = versionsOf(group);
  return (
    group.status?.versionTarget?.isReached ??
    instances.every((instance) => versions.some((version) => onVersion(instance, version)))
  );
}

/** Template URLs compare from `projects/…` on: Compute answers full URLs, but a patch may have set a partial one. */
const templateKey = (url: string | null | undefined): string => (url ?? '').replace(/^.*?(?=projects\/)/, '');

function onVersion(instance: ManagedInstance, version: Version): boolean {
  return (
    (instance.version?.name ?? '') === (version.name ?? '') &&
    templateKey(instance.version?.instanceTemplate) === templateKey(version.instanceTemplate)
  );
}

/**
 * The roll the group's versions stand for. `remaining` counts what is not done: the target size less the members on
 * one of the versions that the MIG has finished with (currentAction NONE), so a replacement still booting counts as
 * remaining and `succeeded` always comes with 0.
 */
function progressOf(group: InstanceGroupManager, instances: readonly ManagedInstance[]): RollProgress {
  const versions = versionsOf(group);
  const size = targetSizeOf(group);
  const done = instances.filter(
    (instance) =>
      (instance.currentAction ?? 'NONE') === 'NONE' && versions.some((version) => onVersion(instance, version)),
  ).length;
  const remaining = Math.max(0, size - done);
  const succeeded = isReached(group, instances) && remaining === 0;
  const opportunistic = !succeeded && group.updatePolicy?.type !== 'PROACTIVE';
  return {
    id: versions.map((version) => version.name || templateKey(version.instanceTemplate).split('/').at(-1)).join(','),
    state: succeeded ? 'succeeded' : 'in-progress',
    remaining,
    percentComplete: size === 0 ? 100 : Math.floor(((size - remaining) * 100) / size),
    ...(opportunistic
      ? {
          reason: `the update policy is ${group.updatePolicy?.type ?? 'unset'}: VMs move to the new version only as they are recreated`,
        }
      : {}),
  };
}

/** The settable half of a FixedOrPercent (`calculated` is Compute's answer, not a setting); undefined for none. */
function settable(size: Version['targetSize']): Quantity | undefined {
  if (typeof size?.fixed === 'number') {
    return { fixed: size.fixed };
  }
  return typeof size?.percent === 'number' ? { percent: size.percent } : undefined;
}

/** A regional group spreads over this many zones when its distribution policy does not list them (Compute's default). */
const REGION_ZONES = 3;

/**
 * The settings as fixed counts of the group's size now. Compute refuses percentages on regional groups under 10 VMs,
 * and fixed values there other than 0 or at least the zone count; rounding a count up to the zone count only lets
 * the roll go faster than asked, never refuses. At least one VM may be down when nothing else could move.
 */
export function limitsFor(settings: RollSettings, size: number, zones: number) {
  const fixed = (count: number) => ({ fixed: count === 0 ? 0 : Math.max(count, zones) });
  const surge = instancesOf(settings.maxSurge, size);
  const unavailable = instancesOf(settings.maxUnavailable, size);
  return { maxSurge: fixed(surge), maxUnavailable: fixed(surge === 0 && unavailable === 0 ? 1 : unavailable) };
}

/** Starts the patch and answers its operation's name; `requestId` makes a retry of this very request a no-op. */
async function patchGroup(
  clients: MigClients,
  target: GcpGroupTarget,
  resource: InstanceGroupManager,
  requestId: string,
  signal?: AbortSignal,
): Promise<string> {
  signal?.throwIfAborted();
  const { project, instanceGroupManager } = target;
  const request = { project, instanceGroupManager, requestId, instanceGroupManagerResource: resource };
  const [operation] =
    target.zone === undefined
      ? await clients.regional.patch({ ...request, region: target.region }, { signal })
      : await clients.zonal.patch({ ...request, zone: target.zone }, { signal });
  // gax answers a Compute mutation with an LRO wrapper whose `latestResponse` is the Compute operation.
  const latest: { readonly name?: string | null } | null | undefined = operation.latestResponse;
  const name = latest?.name ?? operation.name;
  if (!name) {
    throw new Error('the patch answer named no operation');
  }
  return name;
}

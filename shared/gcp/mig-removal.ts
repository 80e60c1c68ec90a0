import { randomUUID } from 'node:crypto';
import { type GcpGroupTarget, targetKey } from '../domain/fleet.ts';
import { CloudApiError } from '../ports/errors.ts';
import type { RemoveOutcome } from '../ports/instance-groups.ts';
import { describeGoogleError, isNotFound, isTransientGoogleError } from './google-errors.ts';
import {
  type ComputeOperation,
  getGroup,
  listInstances,
  type ManagedInstance,
  type MigClients,
  managedInstanceName,
  startDeleteInstances,
  startRecreateInstances,
  waitOperation,
} from './mig-calls.ts';
import { migLifecycle, migState } from './mig-lifecycle.ts';
import { deferralOf, MAX_WAITS, operationFailure } from './mig-resize.ts';

/** `deleteInstances` takes at most this many instances per request; more wait for a later call. */
export const MAX_DELETE_PER_REQUEST = 1_000;

/** The MIG has already let go of these VMs: `deleteInstances` would count them as validation errors. */
const LEAVING_ACTIONS: ReadonlySet<string> = new Set(['DELETING', 'ABANDONING']);

export interface RemovalRequest {
  readonly target: GcpGroupTarget;
  readonly instanceIds: readonly string[];
  /** The fleet's minimum: no removal takes the target size below it. */
  readonly min: number;
  /** Only VMs still stopped by themselves (`exited`) when the group is read are touched. */
  readonly onlyExited?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** What is done to the chosen VMs: deleted (the target size lowered by as many), or recreated (the size kept). */
type Change = 'delete' | 'recreate';

export interface RemovalReport {
  /** One answer per distinct id asked for, in the order asked. */
  readonly outcomes: ReadonlyMap<string, RemoveOutcome>;
  /** The `deleteInstances` operation, when one was started. */
  readonly operation?: string;
}

export interface RemovalPlan {
  /** Instances refused before any call, by id. */
  readonly refused: ReadonlyMap<string, RemoveOutcome>;
  /** Instances to delete, with the URL `deleteInstances` takes. */
  readonly chosen: readonly { readonly id: string; readonly url: string }[];
}

/**
 * Which of `instanceIds` one `deleteInstances` may take, in the order asked, as the in-memory fake decides: an
 * instance not in the group is refused, then each removal lowers the target size by one and none may take it below
 * `min`. Refusals are final for this cycle (not retryable) except the overflow past one request's limit.
 */
export function planRemoval(
  members: readonly ManagedInstance[],
  instanceIds: readonly string[],
  targetSize: number,
  min: number,
  onlyExited = false,
): RemovalPlan {
  const byName = new Map(
    members.flatMap((member) => {
      const name = managedInstanceName(member);
      return name === undefined ? [] : [[name, member] as const];
    }),
  );
  const refused = new Map<string, RemoveOutcome>();
  const chosen: { id: string; url: string }[] = [];
  for (const id of new Set(instanceIds)) {
    const member = byName.get(id);
    const refuse = (reason: string, retryable = false) => refused.set(id, { removed: false, reason, retryable });
    if (member === undefined) {
      refuse(`${id} is not in the group`);
    } else if (LEAVING_ACTIONS.has(member.currentAction ?? '')) {
      refuse(`${id} is already leaving the group (${member.currentAction})`);
    } else if (onlyExited && migLifecycle(member) !== 'exited') {
      refuse(`${id} is no longer stopped (${migState(member)})`);
    } else if (!member.instance) {
      // Only instances still queued for creation lack a URL; they can be deleted by name, but not in one request
      // with URLs, and they run no job anyway.
      refuse(`${id} has no instance URL yet`);
    } else if (targetSize - chosen.length - 1 < min) {
      refuse(`the target size ${targetSize - chosen.length} is at the minimum ${min}`);
    } else if (chosen.length >= MAX_DELETE_PER_REQUEST) {
      refuse(`at most ${MAX_DELETE_PER_REQUEST} instances are removed per call`, true);
    } else {
      chosen.push({ id, url: member.instance });
    }
  }
  return { refused, chosen };
}

/**
 * Deletes exactly the instances asked for with one `deleteInstances`, which lowers the target size by as many (a
 * resize down would let the MIG pick its own victims). The group is read first, to answer per instance what Compute
 * would only skip in silence and to hold the minimum, which a MIG does not know.
 */
export function removeManagedInstances(clients: MigClients, request: RemovalRequest): Promise<RemovalReport> {
  return changeManagedInstances(clients, request, 'delete');
}

/**
 * Recreates exactly the instances asked for with one `recreateInstances`: each comes back as a fresh VM under its
 * name, the target size unchanged, so no minimum applies. Answers as `removeManagedInstances` does (`removed` meaning
 * the VM was taken down to be recreated).
 */
export function recreateManagedInstances(clients: MigClients, request: RemovalRequest): Promise<RemovalReport> {
  return changeManagedInstances(clients, request, 'recreate');
}

async function changeManagedInstances(
  clients: MigClients,
  request: RemovalRequest,
  change: Change,
): Promise<RemovalReport> {
  const { target, instanceIds, signal } = request;
  const key = targetKey(target);
  const failed = (error: unknown, what: string) =>
    isNotFound(error)
      ? new CloudApiError('removeInstances', `${key}: no such managed instance group`, { cause: error })
      : new CloudApiError('removeInstances', `${key}: ${what}: ${describeGoogleError(error)}`, {
          cause: error,
          retryable: isTransientGoogleError(error, signal),
        });

  let members: ManagedInstance[];
  let targetSize: unknown;
  try {
    const [group, listed] = await Promise.all([
      getGroup(clients, target, signal),
      listInstances(clients, target, signal),
    ]);
    members = listed;
    targetSize = group.targetSize;
  } catch (error) {
    throw failed(error, 'reading the group failed');
  }
  if (typeof targetSize !== 'number' || !Number.isInteger(targetSize) || targetSize < 0) {
    throw new CloudApiError('removeInstances', `${key}: the group has no target size`);
  }
  // A recreation keeps the size, so no minimum can stop it.
  const sizeBound = change === 'delete' ? targetSize : Number.POSITIVE_INFINITY;
  const plan = planRemoval(members, instanceIds, sizeBound, request.min, request.onlyExited);
  if (plan.chosen.length === 0) {
    return { outcomes: inOrder(instanceIds, plan.refused, new Map()) };
  }

  const start = change === 'delete' ? startDeleteInstances : startRecreateInstances;
  let operation: string;
  try {
    operation = await start(
      clients,
      target,
      plan.chosen.map(({ url }) => url),
      randomUUID(),
      signal,
    );
  } catch (error) {
    const deferred = deferralOf(error);
    if (deferred === undefined) {
      throw failed(error, `${change === 'delete' ? 'deleteInstances' : 'recreateInstances'} failed`);
    }
    const each: RemoveOutcome = { removed: false, reason: deferred, retryable: true };
    return { outcomes: inOrder(instanceIds, plan.refused, new Map(plan.chosen.map(({ id }) => [id, each]))) };
  }

  const chosenOutcomes = await settle(clients, target, operation, plan.chosen, change, signal);
  return { operation, outcomes: inOrder(instanceIds, plan.refused, chosenOutcomes) };
}

/**
 * What became of the instances sent. A DONE operation without errors changed them all: each was a member and not
 * leaving when listed, and one that left since then is gone either way. An operation not known to be DONE was
 * accepted and may be under way, so the group itself says which VMs are now leaving (or being recreated).
 */
async function settle(
  clients: MigClients,
  target: GcpGroupTarget,
  operation: string,
  chosen: RemovalPlan['chosen'],
  change: Change,
  signal: AbortSignal | undefined,
): Promise<Map<string, RemoveOutcome>> {
  let latest: ComputeOperation | undefined;
  let waitError: unknown;
  for (let attempt = 0; attempt < MAX_WAITS && latest?.status !== 'DONE' && waitError === undefined; attempt++) {
    try {
      latest = await waitOperation(clients, target, operation, signal);
    } catch (error) {
      waitError = error;
    }
  }
  if (latest?.status === 'DONE') {
    const failure = operationFailure(latest);
    const each: RemoveOutcome =
      failure === undefined
        ? { removed: true }
        : {
            removed: false,
            reason: `operation ${operation} failed: ${failure.detail}`,
            retryable: failure.contention || failure.serverFault,
          };
    return new Map(chosen.map(({ id }) => [id, each]));
  }
  const pending =
    waitError === undefined
      ? `operation ${operation} is still ${latest?.status ?? 'PENDING'}`
      : `waiting for operation ${operation} failed: ${describeGoogleError(waitError)}`;
  let after: ManagedInstance[];
  try {
    after = await listInstances(clients, target, signal);
  } catch (error) {
    throw new CloudApiError(
      'removeInstances',
      `${targetKey(target)}: ${pending}, and the group could not be read to see which instances are leaving: ${describeGoogleError(error)}`,
      { cause: error, retryable: true },
    );
  }
  const underWay = change === 'delete' ? 'DELETING' : 'RECREATING';
  const staying = new Set(
    after.flatMap((member) => (member.currentAction === underWay ? [] : [managedInstanceName(member) ?? ''])),
  );
  return new Map(
    chosen.map(({ id }): [string, RemoveOutcome] => [
      id,
      staying.has(id) ? { removed: false, reason: pending, retryable: true } : { removed: true },
    ]),
  );
}

function inOrder(
  instanceIds: readonly string[],
  refused: ReadonlyMap<string, RemoveOutcome>,
  settled: ReadonlyMap<string, RemoveOutcome>,
): Map<string, RemoveOutcome> {
  const outcomes = new Map<string, RemoveOutcome>();
  for (const id of instanceIds) {
    const outcome = refused.get(id) ?? settled.get(id);
    if (outcome !== undefined) {
      outcomes.set(id, outcome);
    }
  }
  return outcomes;
}

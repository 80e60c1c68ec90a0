import type { Scope } from './compute-groups.ts';
import { API_ROOT, scopeField, scopePath } from './compute-views.ts';

/**
 * Compute operations and `requestId` idempotency. A mutation answers with its operation still RUNNING (the real API
 * answers before the work is scheduled) and the operation reads DONE once `operationDelayMs` of clock time has
 * passed. A retried mutation with the same `requestId` in the same scope within an hour gets the first operation
 * back and changes nothing.
 */

export interface ComputeOperation {
  readonly id: string;
  readonly name: string;
  readonly project: string;
  readonly scope: Scope;
  /** e.g. `compute.instanceGroupManagers.resize`. */
  readonly operationType: string;
  readonly targetPath: string;
  readonly targetId: string;
  readonly insertedAt: number;
  readonly doneAt: number;
}

/** Compute keeps a request id for at least 60 minutes. */
const REQUEST_ID_TTL_MS = 60 * 60 * 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isValidRequestId = (id: string): boolean => UUID.test(id) && /[1-9a-f]/i.test(id);

export function createOperations(clock: () => number, operationDelayMs: number, nextId: () => string) {
  const byName = new Map<string, ComputeOperation>();
  const byRequestId = new Map<string, ComputeOperation>();
  const location = (project: string, scope: Scope) => scopePath(project, scope);

  return {
    /** The operation a `requestId` already produced in this scope, if it is still remembered. */
    replay(project: string, scope: Scope, requestId: string | null): ComputeOperation | undefined {
      const seen = requestId === null ? undefined : byRequestId.get(`${location(project, scope)}|${requestId}`);
      return seen !== undefined && clock() - seen.insertedAt < REQUEST_ID_TTL_MS ? seen : undefined;
    },

    start(fields: Omit<ComputeOperation, 'id' | 'name' | 'insertedAt' | 'doneAt'>, requestId: string | null) {
      const now = clock();
      const id = nextId();
      const operation: ComputeOperation = {
        ...fields,
        id,
        name: `operation-${now}-${id.slice(-8)}`,
        insertedAt: now,
        doneAt: now + operationDelayMs,
      };
      byName.set(`${location(fields.project, fields.scope)}|${operation.name}`, operation);
      if (requestId !== null) {
        byRequestId.set(`${location(fields.project, fields.scope)}|${requestId}`, operation);
      }
      return operation;
    },

    find(project: string, scope: Scope, name: string): ComputeOperation | undefined {
      return byName.get(`${location(project, scope)}|${name}`);
    },

    /** `fresh`: the answer to the mutation itself, which never reports DONE. */
    json(operation: ComputeOperation, fresh = false) {
      const done = !fresh && clock() >= operation.doneAt;
      const path = `${scopePath(operation.project, operation.scope)}/operations/${operation.name}`;
      return {
        kind: 'compute#operation',
        id: operation.id,
        name: operation.name,
        operationType: operation.operationType,
        targetLink: `${API_ROOT}/${operation.targetPath}`,
        targetId: operation.targetId,
        status: done ? 'DONE' : 'RUNNING',
        user: 'fleetplane@local.invalid',
        progress: done ? 100 : 0,
        insertTime: new Date(operation.insertedAt).toISOString(),
        startTime: new Date(operation.insertedAt).toISOString(),
        ...(done ? { endTime: new Date(operation.doneAt).toISOString() } : {}),
        selfLink: `${API_ROOT}/${path}`,
        ...scopeField(operation.project, operation.scope),
      };
    },
  };
}

export type Operations = ReturnType<typeof createOperations>;

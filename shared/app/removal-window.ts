import { toError } from '../domain/guards.ts';
import type { RecentRemovals } from '../domain/policy.ts';
import type { CallOptions } from '../ports/call-options.ts';
import type { RemovalLedger } from '../ports/removal-ledger.ts';
import type { InvocationMemory } from './stabilization-window.ts';

export interface RemovalsRequest {
  readonly fleet: string;
  readonly windowSeconds: number;
  /** Every fleet with a per-window limit: read together in one call. */
  readonly limitedFleets: readonly string[];
  readonly environment: string;
  readonly now: number;
}

/**
 * Instances removed from a fleet within its window: what the ledger held when this invocation first asked (read once
 * per window length), plus what the invocation removed since; a limited fleet removes nothing before that read, so
 * nothing is counted twice. Removals that leave the window during the invocation still count: the limit errs toward
 * removing less.
 */
export async function removalsInWindow(
  ledger: RemovalLedger | undefined,
  memory: InvocationMemory,
  request: RemovalsRequest,
  options: CallOptions,
): Promise<RecentRemovals> {
  if (ledger === undefined) {
    // The composition roots always wire one; without it, nothing tells how many the window has left.
    return { known: false, reason: 'no removal ledger is wired' };
  }
  const { fleet, windowSeconds, now } = request;
  let reading = memory.removalReads.get(windowSeconds);
  if (reading === undefined) {
    const from = now - windowSeconds * 1000;
    reading = ledger.removed(request.limitedFleets, request.environment, from, now, options).catch(toError);
    memory.removalReads.set(windowSeconds, reading);
  }
  const read = await reading;
  if (read instanceof Error) {
    return { known: false, reason: `reading the removal ledger failed: ${read.message}` };
  }
  const stored = read.get(fleet);
  if (stored === undefined) {
    return { known: false, reason: `the ledger did not answer for ${fleet}` };
  }
  const here = memory.removed.filter((entry) => entry.fleet === fleet).reduce((sum, entry) => sum + entry.count, 0);
  return { known: true, count: stored + here };
}

import type { GcpGroupTarget } from '../domain/fleet.ts';
import type { NarrowLogger } from '../ports/logger.ts';
import { describeGoogleError } from './google-errors.ts';
import { findAutoscaler, type InstanceGroupManager, type MigClients } from './mig-calls.ts';

/**
 * The group's autoscaler, when one targets it, as a competing scaler: `autoscaler:<name> (mode ON)`.
 *
 * - `ON` owns the size outright, and `ONLY_SCALE_OUT` (`ONLY_UP`, its old name) raises it whenever its own signal
 *   says so, undoing our scale-in: both fight a direct resize and are reported.
 * - `OFF` only computes a `recommendedSize` and changes nothing: it is the documented way to keep an autoscaler while
 *   driving the size directly, so it is logged but not reported.
 * - A mode that cannot be read is reported as unknown: it may well be ON.
 *
 * The group's `status.autoscaler` names the autoscaler, so groups without one cost no extra call.
 */
export async function competingAutoscalers(
  clients: MigClients,
  target: GcpGroupTarget,
  group: InstanceGroupManager,
  context: { readonly logger: NarrowLogger; readonly signal?: AbortSignal | undefined },
): Promise<string[]> {
  const link = group.status?.autoscaler;
  const name = link?.split('/').at(-1);
  if (!name) {
    return [];
  }
  let mode: string;
  try {
    const autoscaler = await findAutoscaler(clients, target, name, context.signal);
    if (autoscaler === undefined) {
      // Deleted since the group was read: nothing competes any more.
      return [];
    }
    mode = String(autoscaler.autoscalingPolicy?.mode ?? 'ON');
  } catch (error) {
    context.logger.warn('reading the autoscaler failed', { autoscaler: link, reason: describeGoogleError(error) });
    return [`autoscaler:${name} (mode unknown)`];
  }
  if (mode === 'OFF') {
    context.logger.info('autoscaler attached in mode OFF: not competing', { autoscaler: link });
    return [];
  }
  return [`autoscaler:${name} (mode ${mode})`];
}

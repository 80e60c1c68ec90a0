import { GrpcCode, grpcCode, httpStatusOf } from './google-errors.ts';

/**
 * Reading a partial `createTimeSeries` rejection. Cloud Monitoring writes the series it can and answers 400
 * INVALID_ARGUMENT naming the others, one group per reason: `<reason>: [<resource>] timeSeries[3]` or
 * `timeSeries[0-199]`, groups joined by `; ` (messages quoted in GoogleCloudPlatform/prometheus-engine issue 823 and
 * Stackdriver/stackdriver-prometheus-sidecar issue 224; the local emulator writes the same). gax cannot decode the
 * `CreateTimeSeriesSummary` detail, so the message is what there is to read.
 */

const TOO_FREQUENT = /more frequently than the maximum sampling period/g;
const INDEX_SPEC = /timeSeries\[([\d,\s-]+)\]/g;

/**
 * The request indices refused, when every refusal is "written more frequently than the maximum sampling period"; else
 * undefined. That refusal means a point of the series is already that recent (another invocation, or this one moments
 * ago), which is what the cycle wanted written anyway: the series is current, so it is no failure.
 */
export function tooFrequentOnly(error: unknown, batchSize: number): ReadonlySet<number> | undefined {
  if (!(error instanceof Error) || (grpcCode(error) !== GrpcCode.InvalidArgument && httpStatusOf(error) !== 400)) {
    return undefined;
  }
  const groups = [...error.message.matchAll(INDEX_SPEC)];
  const frequent = error.message.match(TOO_FREQUENT)?.length ?? 0;
  if (groups.length === 0 || frequent !== groups.length) {
    return undefined;
  }
  const refused = new Set<number>();
  for (const [, spec = ''] of groups) {
    for (const part of spec.split(',')) {
      const [low, high = low] = part.trim().split('-').map(Number);
      if (low === undefined || high === undefined || !Number.isInteger(low) || !Number.isInteger(high)) {
        // Unreadable indices: count the whole batch as refused, so none is recorded as freshly written.
        return new Set(Array.from({ length: batchSize }, (_, index) => index));
      }
      for (let index = low; index <= Math.min(high, batchSize - 1); index++) {
        refused.add(index);
      }
    }
  }
  return refused;
}

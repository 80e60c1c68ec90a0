import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  awsClientConfig,
  type CloudWatchEmulator,
  type StoredDatum,
  startCloudWatchEmulator,
} from '../../local/aws/index.ts';
import { createCloudWatchHealthMetrics } from '../../shared/aws/cloudwatch-health-metrics.ts';
import {
  FLEET_INSTANCES_METRIC,
  FLEETPLANE_NAMESPACE,
  HEALTH_HELD_METRIC,
  HEALTH_REPLACEMENTS_METRIC,
  UNEXPLAINED_EXECUTORS_METRIC,
} from '../../shared/aws/fleetplane-metrics.ts';
import { HEALTH_CLASSES, type HealthClass } from '../../shared/domain/health.ts';
import { type Clock, systemClock } from '../../shared/ports/clock.ts';
import { MetricsPublishError } from '../../shared/ports/errors.ts';
import {
  type FleetHealthCounts,
  type HealthCounts,
  REPLACEMENT_OUTCOMES,
  type ReplacementOutcome,
} from '../../shared/ports/health-metrics.ts';
import { defineHealthMetricsContract, type StoredHealthValue } from '../contract/health-metrics.contract.ts';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);

let cloudwatch: CloudWatchEmulator;
let client: CloudWatchClient;
/** The emulator outlives each contract subject; each subject brings its own clock, swapped in here. */
let clock: Clock = systemClock;

beforeAll(async () => {
  cloudwatch = await startCloudWatchEmulator({ clock: () => clock() });
  client = new CloudWatchClient({ ...awsClientConfig(cloudwatch.emulator), maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await cloudwatch.close();
});

const isHealthClass = (value: string | undefined): value is HealthClass =>
  (HEALTH_CLASSES as readonly (string | undefined)[]).includes(value);
const isOutcome = (value: string | undefined): value is ReplacementOutcome =>
  (REPLACEMENT_OUTCOMES as readonly (string | undefined)[]).includes(value);

/** A datum in the contract's terms; anything else in fleetplane's namespace fails the read, so strays are seen. */
function toValue(datum: StoredDatum): StoredHealthValue {
  const dimension = (name: string) => datum.dimensions.find((d) => d.name === name)?.value;
  const environment = dimension('environment');
  const { sum: value, at } = datum;
  if (datum.sampleCount !== 1 || environment === undefined) {
    throw new Error(`unexpected datum ${JSON.stringify(datum)}`);
  }
  if (datum.metricName === UNEXPLAINED_EXECUTORS_METRIC && datum.dimensions.length === 1) {
    return { metric: 'unexplained-executors', environment, value, at };
  }
  const fleet = dimension('fleet');
  if (fleet === undefined) {
    throw new Error(`unexpected datum ${JSON.stringify(datum)}`);
  }
  const health = dimension('health');
  if (datum.metricName === FLEET_INSTANCES_METRIC && datum.dimensions.length === 3 && isHealthClass(health)) {
    return { metric: 'fleet-instances', environment, fleet, health, value, at };
  }
  const outcome = dimension('outcome');
  if (datum.metricName === HEALTH_REPLACEMENTS_METRIC && datum.dimensions.length === 3 && isOutcome(outcome)) {
    return { metric: 'health-replacements', environment, fleet, outcome, value, at };
  }
  if (datum.metricName === HEALTH_HELD_METRIC && datum.dimensions.length === 2) {
    return { metric: 'health-held', environment, fleet, value, at };
  }
  throw new Error(`unexpected datum ${JSON.stringify(datum)}`);
}

const ours = () => cloudwatch.datums().filter((datum) => datum.namespace === FLEETPLANE_NAMESPACE);

defineHealthMetricsContract('CloudWatch over the CloudWatch emulator (real SDK, loopback HTTP)', (subjectClock) => {
  clock = subjectClock;
  cloudwatch.clearDatums();
  cloudwatch.emulator.clearFaults();
  return {
    metrics: createCloudWatchHealthMetrics(client),
    stored: () => ours().map(toValue),
    failStore: () => cloudwatch.emulator.injectFault({ kind: 'throttle', operation: 'PutMetricData' }),
  };
});

const none = { booting: 0, healthy: 0, orphan: 0, stale: 0, outdated: 0 };
/** Each fleet: 2 healthy and 1 stale, that 1 replaced, not held; 9 datums a fleet, and 1 more for the check. */
const fleetCounts = (fleet: string): FleetHealthCounts => ({
  fleet,
  counts: { ...none, healthy: 2, stale: 1 },
  replacements: { replaced: 1, 'would-replace': 0, refused: 0 },
  held: false,
});
const health = (fleets: readonly string[], environment = 'prod'): HealthCounts => ({
  environment,
  at: T0 + 1_500,
  fleets: fleets.map(fleetCounts),
  unexplainedExecutors: 1,
});
const fleets = (n: number) => Array.from({ length: n }, (_, i) => `fleet-${i}`);

describe('CloudWatch health metrics, as CloudWatch stores them', () => {
  const puts = () => cloudwatch.emulator.requests.filter((request) => request.operation === 'PutMetricData');
  beforeEach(() => {
    clock = () => T0 + 2_000;
    cloudwatch.clearDatums();
    cloudwatch.emulator.clearFaults();
    cloudwatch.emulator.clearRequests();
  });

  it('writes Count datums at the check’s time, standard resolution, in fleetplane’s namespace', async () => {
    // Act
    await createCloudWatchHealthMetrics(client).publish(health(['codeintel']));

    // Assess: the check's time, to the millisecond, rather than the receive time
    expect(cloudwatch.datums()).toHaveLength(10);
    for (const datum of cloudwatch.datums()) {
      expect(datum).toMatchObject({
        namespace: 'fleetplane',
        unit: 'Count',
        storageResolution: 60,
        at: T0 + 1_500,
      });
    }
    expect(cloudwatch.datums().map((datum) => [datum.metricName, datum.dimensions])).toContainEqual([
      'FleetInstances',
      [
        { name: 'environment', value: 'prod' },
        { name: 'fleet', value: 'codeintel' },
        { name: 'health', value: 'stale' },
      ],
    ]);
    const named = (metricName: string) =>
      cloudwatch
        .datums()
        .filter((datum) => datum.metricName === metricName)
        .map((datum) => [datum.dimensions, datum.sum]);
    expect(named('HealthReplacements')).toEqual(
      ['replaced', 'would-replace', 'refused'].map((outcome) => [
        [
          { name: 'environment', value: 'prod' },
          { name: 'fleet', value: 'codeintel' },
          { name: 'outcome', value: outcome },
        ],
        outcome === 'replaced' ? 1 : 0,
      ]),
    );
    expect(named('HealthHeld')).toEqual([
      [
        [
          { name: 'environment', value: 'prod' },
          { name: 'fleet', value: 'codeintel' },
        ],
        0,
      ],
    ]);
    expect(cloudwatch.datums().at(-1)).toMatchObject({
      metricName: 'UnexplainedExecutors',
      dimensions: [{ name: 'environment', value: 'prod' }],
      sum: 1,
    });
  });

  it('sends 1000 datums per request at most', async () => {
    // Act: 250 fleets × (5 classes + 3 outcomes + held) + 1
    await createCloudWatchHealthMetrics(client).publish(health(fleets(250)));

    // Assess
    expect(puts()).toHaveLength(3);
    expect(cloudwatch.datums()).toHaveLength(2251);
  });

  it('keeps each request under 1 MB however long the environment name', async () => {
    // Prepare: 1000 datums with a 1000-character environment would be over 1 MB in one request
    const environment = 'e'.repeat(1000);

    // Act: 112 fleets × 9 + 1 = 1009 datums; the emulator refuses a request over 1 MB
    await createCloudWatchHealthMetrics(client).publish(health(fleets(112), environment));

    // Assess
    expect(puts().length).toBeGreaterThan(1);
    expect(cloudwatch.datums()).toHaveLength(1009);
  });

  const many = health(fleets(250));
  const lastFleet = (change: Partial<FleetHealthCounts>): HealthCounts => ({
    ...many,
    fleets: [...many.fleets, { ...fleetCounts('bad'), ...change }],
  });
  it.each<[string, HealthCounts]>([
    ['a negative unexplained count', { ...health(['codeintel']), unexplainedExecutors: -1 }],
    [
      'a negative replacement count last',
      lastFleet({ replacements: { replaced: 0, 'would-replace': -1, refused: 0 } }),
    ],
    // What parsed JSON or plain JavaScript could hand over, outside the type system.
    ['a held that is not a boolean last', lastFleet({ held: 'false' as unknown as boolean })],
  ])('sends nothing for %s', async (_, refused) => {
    // Act
    const attempt = createCloudWatchHealthMetrics(client).publish(refused);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(MetricsPublishError);
    expect(puts()).toHaveLength(0);
  });

  it('reports what CloudWatch refuses as a MetricsPublishError that retrying will not fix', async () => {
    // Prepare: CloudWatch takes dimension values of 1024 characters at most
    const counts = health(['codeintel'], 'e'.repeat(1025));

    // Act
    const error = await createCloudWatchHealthMetrics(client)
      .publish(counts)
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(MetricsPublishError);
    expect(error).toMatchObject({ retryable: false, message: expect.stringContaining('0 of 10 datums were sent') });
    expect(cloudwatch.datums()).toHaveLength(0);
  });

  it('says how far a publish got when a later request fails', async () => {
    // Prepare: the second request is throttled
    let sent = 0;
    const counting = new CloudWatchClient({ ...awsClientConfig(cloudwatch.emulator), maxAttempts: 1 });
    counting.middlewareStack.add(
      (next) => async (args) => {
        sent += 1;
        if (sent === 2) {
          cloudwatch.emulator.injectFault({ kind: 'throttle', times: 1 });
        }
        return next(args);
      },
      { step: 'finalizeRequest', name: 'throttleSecond' },
    );

    // Act
    const error = await createCloudWatchHealthMetrics(counting)
      .publish(health(fleets(250)))
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({
      name: 'MetricsPublishError',
      retryable: true,
      message: expect.stringContaining('1000 of 2251 datums were sent'),
    });
    expect(cloudwatch.datums()).toHaveLength(1000);
    counting.destroy();
  });
});

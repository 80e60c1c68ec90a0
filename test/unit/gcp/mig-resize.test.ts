import {
  AutoscalersClient,
  InstanceGroupManagersClient,
  InstancesClient,
  type protos,
  RegionAutoscalersClient,
  RegionInstanceGroupManagersClient,
  RegionOperationsClient,
  ZoneOperationsClient,
} from '@google-cloud/compute';
import { PassThroughClient } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import type { GcpGroupTarget } from '../../../shared/domain/fleet.ts';
import type { MigClients } from '../../../shared/gcp/mig-calls.ts';
import { awaitResize, deferralOf } from '../../../shared/gcp/mig-resize.ts';
import { CloudApiError } from '../../../shared/ports/errors.ts';

type Operation = protos.google.cloud.compute.v1.IOperation;
const target: GcpGroupTarget = { cloud: 'gcp', project: 'p1', zone: 'us-west1-a', instanceGroupManager: 'executors' };

/** Real clients that never reach the network: `wait` answers the given operations in turn. */
function clientsAnswering(...answers: Operation[]): MigClients {
  const options = { fallback: true, authClient: new PassThroughClient() };
  const zoneOperations = new Proxy(new ZoneOperationsClient(options), {
    get(client, property) {
      return property === 'wait' ? async () => [answers.shift() ?? {}] : Reflect.get(client, property, client);
    },
  });
  return {
    zonal: new InstanceGroupManagersClient(options),
    regional: new RegionInstanceGroupManagersClient(options),
    zoneOperations,
    regionOperations: new RegionOperationsClient(options),
    autoscalers: new AutoscalersClient(options),
    regionAutoscalers: new RegionAutoscalersClient(options),
    instances: new InstancesClient(options),
  };
}

describe('awaitResize', () => {
  it('is applied once the operation is DONE without errors, waiting again while it runs', async () => {
    // Act
    const outcome = await awaitResize(clientsAnswering({ status: 'RUNNING' }, { status: 'DONE' }), target, 'op-1');

    // Assess
    expect(outcome).toEqual({ applied: true });
  });

  it('defers while the operation is still running after every wait', async () => {
    // Act
    const outcome = await awaitResize(
      clientsAnswering({ status: 'RUNNING' }, { status: 'RUNNING' }, { status: 'RUNNING' }),
      target,
      'op-1',
    );

    // Assess
    expect(outcome).toEqual({ applied: false, deferred: 'resize operation op-1 is still RUNNING' });
  });

  it('defers an operation that failed on contention, and fails on any other error', async () => {
    // Prepare
    const busy = {
      status: 'DONE' as const,
      httpErrorStatusCode: 400,
      error: { errors: [{ code: 'RESOURCE_NOT_READY', message: "The resource 'executors' is not ready" }] },
    };
    const quota = {
      status: 'DONE' as const,
      httpErrorStatusCode: 403,
      error: { errors: [{ code: 'QUOTA_EXCEEDED', message: "Quota 'CPUS' exceeded." }] },
    };

    // Act
    const deferred = await awaitResize(clientsAnswering(busy), target, 'op-1');
    const failed = awaitResize(clientsAnswering(quota), target, 'op-2');

    // Assess
    expect(deferred).toEqual({ applied: false, deferred: expect.stringMatching(/RESOURCE_NOT_READY/) });
    await expect(failed).rejects.toBeInstanceOf(CloudApiError);
    await expect(failed).rejects.toMatchObject({
      retryable: false,
      message: expect.stringMatching(/QUOTA_EXCEEDED: Quota 'CPUS' exceeded/),
    });
  });
});

describe('deferralOf', () => {
  const googleError = (message: string, code: number, httpStatusCode: number) =>
    Object.assign(new Error(message), { code, httpStatusCode });

  it.each([
    ['a 429', googleError('Quota exceeded for quota metric', 8, 429), /^throttled/],
    ['a 409', googleError('Conflict', 10, 409), /busy/],
    [
      'a group that is not ready',
      googleError("The resource 'projects/p1/zones/z/instanceGroupManagers/x' is not ready", 3, 400),
      /busy/,
    ],
  ])('defers %s', (_, error, reason) => {
    // Act
    const deferred = deferralOf(error);

    // Assess
    expect(deferred).toMatch(reason);
  });

  it('does not defer a bad request or a missing group', () => {
    // Act
    const deferred = [googleError('Invalid value for field size', 3, 400), googleError('not found', 5, 404)].map(
      deferralOf,
    );

    // Assess
    expect(deferred).toEqual([undefined, undefined]);
  });
});

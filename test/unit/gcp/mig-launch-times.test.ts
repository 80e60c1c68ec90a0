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
import type { MigClients } from '../../../shared/gcp/mig-calls.ts';
import { creationTimes, type InstanceRef } from '../../../shared/gcp/mig-launch-times.ts';
import type { NarrowLogger } from '../../../shared/ports/logger.ts';

type ListRequest = protos.google.cloud.compute.v1.IListInstancesRequest;
type Instance = protos.google.cloud.compute.v1.IInstance;

/** Real clients that never reach the network: `instances.list` answers from `byZone`, or throws for a zone mapped to an Error. */
function listing(byZone: Readonly<Record<string, readonly Instance[] | Error>>) {
  const options = { fallback: true, authClient: new PassThroughClient() };
  const requests: ListRequest[] = [];
  const instances = new Proxy(new InstancesClient(options), {
    get(client, property) {
      if (property !== 'list') {
        return Reflect.get(client, property, client);
      }
      return async (request: ListRequest) => {
        requests.push(request);
        const answer = byZone[request.zone ?? ''] ?? [];
        if (answer instanceof Error) {
          throw answer;
        }
        return [answer];
      };
    },
  });
  const clients: MigClients = {
    zonal: new InstanceGroupManagersClient(options),
    regional: new RegionInstanceGroupManagersClient(options),
    zoneOperations: new ZoneOperationsClient(options),
    regionOperations: new RegionOperationsClient(options),
    autoscalers: new AutoscalersClient(options),
    regionAutoscalers: new RegionAutoscalersClient(options),
    instances,
  };
  return { clients, requests };
}

function recordingLogger() {
  const warnings: unknown[] = [];
  const logger: NarrowLogger = {
    info: () => undefined,
    warn: (message, context) => void warnings.push({ message, ...context }),
    error: () => undefined,
  };
  return { logger, warnings };
}

const ref = (zone: string, name: string): InstanceRef => ({ project: 'p1', zone, name });

describe('creationTimes', () => {
  it('reads each zone once for every instance there, filtered to their names, and parses any offset', async () => {
    // Prepare
    const { clients, requests } = listing({
      'europe-west1-b': [
        { name: 'eu-b1', creationTimestamp: '2026-11-01T01:00:00.000-07:00' },
        { name: 'zb-1', creationTimestamp: '2026-11-01T08:30:00Z' },
      ],
      'europe-west1-c': [{ name: 'eu-c1', creationTimestamp: 'not a time' }],
    });
    const { logger } = recordingLogger();

    // Act
    const times = await creationTimes(
      clients,
      [ref('europe-west1-b', 'eu-b1'), ref('europe-west1-c', 'eu-c1'), ref('europe-west1-b', 'zb-1')],
      { logger },
    );

    // Assess
    expect(requests).toEqual([
      { project: 'p1', zone: 'europe-west1-b', filter: '(name = "eu-b1") OR (name = "zb-1")' },
      { project: 'p1', zone: 'europe-west1-c', filter: '(name = "eu-c1")' },
    ]);
    expect(Object.fromEntries(times)).toEqual({
      'p1/europe-west1-b/eu-b1': Date.UTC(2026, 10, 1, 8),
      'p1/europe-west1-b/zb-1': Date.UTC(2026, 10, 1, 8, 30),
    });
  });

  it('splits a zone whose filter would grow too long into several reads', async () => {
    // Prepare
    const names = Array.from({ length: 150 }, (_, index) => `executors-codeintel-${String(index).padStart(4, '0')}`);
    const { clients, requests } = listing({});
    const { logger } = recordingLogger();

    // Act
    await creationTimes(
      clients,
      names.map((name) => ref('us-west1-a', name)),
      { logger },
    );

    // Assess
    expect(requests.length).toBeGreaterThan(1);
    expect(requests.every((request) => (request.filter ?? '').length <= 4_000)).toBe(true);
    expect(requests.flatMap((request) => request.filter?.match(/"[^"]+"/g) ?? [])).toHaveLength(names.length);
  });

  it('leaves the instances of a zone that cannot be read without a time, and says so', async () => {
    // Prepare
    const { clients } = listing({
      'us-west1-a': Object.assign(new Error('Required compute.instances.list'), { code: 7, httpStatusCode: 403 }),
      'us-west1-b': [{ name: 'vm-b', creationTimestamp: '2026-11-01T08:00:00Z' }],
    });
    const { logger, warnings } = recordingLogger();

    // Act
    const times = await creationTimes(clients, [ref('us-west1-a', 'vm-a'), ref('us-west1-b', 'vm-b')], { logger });

    // Assess
    expect([...times.keys()]).toEqual(['p1/us-west1-b/vm-b']);
    expect(warnings).toEqual([
      {
        message: 'reading instance creation times failed',
        project: 'p1',
        zone: 'us-west1-a',
        instances: 1,
        reason: expect.stringMatching(/Required compute.instances.list .*HTTP 403/),
      },
    ]);
  });
});

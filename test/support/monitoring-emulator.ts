import { MetricServiceClient } from '@google-cloud/monitoring';
import { afterAll, beforeAll } from 'vitest';
import { gcpClientOptions } from '../../local/gcp/index.ts';
import { type MonitoringEmulator, startMonitoringEmulator } from '../../local/gcp/monitoring.ts';
import type { Clock } from '../../shared/ports/clock.ts';

/** One Monitoring emulator and one real client for a test file, both started before its tests and closed after. */
export interface MonitoringHarness {
  readonly monitoring: MonitoringEmulator;
  readonly client: MetricServiceClient;
  /** The emulator's "now" (when it receives a write): set it to the case's own clock. */
  clock: Clock;
  /**
   * A project no earlier case of the file wrote to: the emulator keeps every series, and cases starting at the same
   * instant would otherwise meet each other's points (and the 5-second write limit).
   */
  freshProject(prefix: string): string;
}

export function useMonitoringEmulator(): MonitoringHarness {
  let monitoring: MonitoringEmulator | undefined;
  let client: MetricServiceClient | undefined;
  let projects = 0;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) {
      throw new Error('the Monitoring emulator is started in beforeAll: use it inside a test or hook');
    }
    return value;
  };
  const harness: MonitoringHarness = {
    get monitoring() {
      return started(monitoring);
    },
    get client() {
      return started(client);
    },
    clock: Date.now,
    freshProject: (prefix) => `${prefix}-${++projects}`,
  };
  beforeAll(async () => {
    monitoring = await startMonitoringEmulator({ clock: () => harness.clock() });
    client = new MetricServiceClient(gcpClientOptions(monitoring.emulator));
  });
  afterAll(async () => {
    await client?.close();
    await monitoring?.emulator.close();
  });
  return harness;
}

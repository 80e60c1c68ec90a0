import { MetricServiceClient } from '@google-cloud/monitoring';
import { afterAll, beforeAll } from 'vitest';
import { gcpClientOptions } from '../../local/gcp/index.ts';
import { type MonitoringEmulator, startMonitoringEmulator } from '../../local/gcp/monitoring.ts';
import {
  createCloudMonitoringMetricsSink,
  createCloudMonitoringQueueHistory,
} from '../../shared/gcp/monitoring-queue-metrics.ts';
import { createCloudMonitoringRemovalLedger } from '../../shared/gcp/monitoring-removal-ledger.ts';
import type { Clock } from '../../shared/ports/clock.ts';
import { defineQueueMetricsContract } from '../contract/queue-metrics.contract.ts';
import { defineRemovalLedgerContract } from '../contract/removal-ledger.contract.ts';

let monitoring: MonitoringEmulator;
let client: MetricServiceClient;
/** The emulator's receive time is the current subject's clock: the contract's clock stands for both. */
let clock: Clock = Date.now;
let subjects = 0;

beforeAll(async () => {
  monitoring = await startMonitoringEmulator({ clock: () => clock() });
  client = new MetricServiceClient(gcpClientOptions(monitoring.emulator));
});
afterAll(async () => {
  await client.close();
  await monitoring.emulator.close();
});

/**
 * One project per subject: the emulator keeps every series, and each case starts at the same instant, so a fresh
 * project stands in for a fresh store. No case writes one series twice within the emulator's 5 s sampling period;
 * the 2,500-point case collapses to one point per series before anything is sent.
 */
defineQueueMetricsContract(
  'Cloud Monitoring adapters over the Monitoring emulator (real client, REST)',
  (subjectClock) => {
    clock = subjectClock;
    const projectId = `fleetplane-contract-${++subjects}`;
    return {
      sink: createCloudMonitoringMetricsSink(client, { projectId, clock: subjectClock }),
      history: createCloudMonitoringQueueHistory(client, { projectId }),
    };
  },
);

defineRemovalLedgerContract(
  'Cloud Monitoring ledger over the Monitoring emulator (real client, REST)',
  (subjectClock) => {
    clock = subjectClock;
    return createCloudMonitoringRemovalLedger(client, {
      projectId: `fleetplane-ledger-${++subjects}`,
      clock: subjectClock,
    });
  },
);

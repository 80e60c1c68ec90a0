import {
  createCloudMonitoringMetricsSink,
  createCloudMonitoringQueueHistory,
} from '../../shared/gcp/monitoring-queue-metrics.ts';
import { createCloudMonitoringRemovalLedger } from '../../shared/gcp/monitoring-removal-ledger.ts';
import { defineQueueMetricsContract } from '../contract/queue-metrics.contract.ts';
import { defineRemovalLedgerContract } from '../contract/removal-ledger.contract.ts';
import { useMonitoringEmulator } from '../support/monitoring-emulator.ts';

const h = useMonitoringEmulator();

/**
 * One project per subject: the emulator keeps every series, and each case starts at the same instant, so a fresh
 * project stands in for a fresh store. No case writes one series twice within the emulator's 5 s sampling period;
 * the 2,500-point case collapses to one point per series before anything is sent.
 */
defineQueueMetricsContract(
  'Cloud Monitoring adapters over the Monitoring emulator (real client, REST)',
  (subjectClock) => {
    h.clock = subjectClock;
    const projectId = h.freshProject('fleetplane-contract');
    return {
      sink: createCloudMonitoringMetricsSink(h.client, { projectId, clock: subjectClock }),
      history: createCloudMonitoringQueueHistory(h.client, { projectId }),
    };
  },
);

defineRemovalLedgerContract(
  'Cloud Monitoring ledger over the Monitoring emulator (real client, REST)',
  (subjectClock) => {
    h.clock = subjectClock;
    return createCloudMonitoringRemovalLedger(h.client, {
      projectId: h.freshProject('fleetplane-ledger'),
      clock: subjectClock,
    });
  },
);

/**
 * The worker's queue-size series in Cloud Monitoring (cmd/worker/internal/executorqueue/gcp_reporter.go): MIG
 * autoscalers and alerting policies built for the worker match it by type and labels, so every field is the worker's.
 */
export const QUEUE_SIZE_METRIC_TYPE = 'custom.googleapis.com/executors/queue/size';
/** createTimeSeries accepts at most 200 series per request. */
export const MAX_SERIES_PER_REQUEST = 200;

/** `projects/<id>`, refusing an empty id: the worker disables its writer without one, and so must we. */
export function projectName(projectId: string): string {
  if (projectId.trim() === '') {
    throw new RangeError('a Cloud Monitoring project id is required (the worker disables its writer without one)');
  }
  return `projects/${projectId}`;
}

/** fleetplane's own ledger of removed instances: its own type, never under the worker's `executors/` prefix. */
export const INSTANCES_REMOVED_METRIC_TYPE = 'custom.googleapis.com/fleetplane/instances_removed';

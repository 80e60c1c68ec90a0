import { type Emulator, type EmulatorRequest, startEmulator } from '../http/emulator.ts';
import { googleFaults, invalidJson, notFoundRoute, readJson, wantsIntEnums } from './google-json.ts';
import type { StoredDescriptor, StoredSeries } from './monitoring-model.ts';
import { listTimeSeries } from './monitoring-read.ts';
import { createTimeSeries, type MonitoringState } from './monitoring-write.ts';

export type { StoredDescriptor, StoredPoint, StoredSeries, StoredValue } from './monitoring-model.ts';

export interface MonitoringEmulatorOptions {
  /** Epoch ms; decides which points are too old or too far ahead, and stamps the request log. */
  readonly clock?: () => number;
  /** Milliseconds between two points of one series. Cloud Monitoring's documented rate is one point per 5 s. */
  readonly minWriteIntervalMs?: number;
  readonly maxSeriesPerRequest?: number;
  readonly port?: number;
}

export interface MonitoringEmulator {
  readonly emulator: Emulator;
  /** Every stored series, points oldest first. */
  series(): readonly StoredSeries[];
  /** The descriptors auto-created by first writes. */
  descriptors(): readonly StoredDescriptor[];
}

const TIME_SERIES_PATH = /^\/v3\/projects\/([^/]+)\/timeSeries$/;

/** Cloud Monitoring v3 (`createTimeSeries`, `listTimeSeries`) in the REST shape `MetricServiceClient` uses with `fallback: true`. */
export async function startMonitoringEmulator(options: MonitoringEmulatorOptions = {}): Promise<MonitoringEmulator> {
  const clock = options.clock ?? Date.now;
  const state: MonitoringState = { series: new Map(), descriptors: new Map() };
  const rules = {
    maxSeriesPerRequest: options.maxSeriesPerRequest ?? 200,
    minWriteIntervalMs: options.minWriteIntervalMs ?? 5_000,
  };

  const operationOf = (request: EmulatorRequest) => {
    if (!TIME_SERIES_PATH.test(request.path)) {
      return undefined;
    }
    return request.method === 'POST' ? 'createTimeSeries' : request.method === 'GET' ? 'listTimeSeries' : undefined;
  };

  const emulator = await startEmulator({
    name: 'gcp-monitoring',
    clock,
    faults: googleFaults(
      "Quota exceeded for quota metric 'Time series ingestion requests' and limit 'Time series ingestion requests per minute'.",
    ),
    operationOf,
    handle(request) {
      const project = TIME_SERIES_PATH.exec(request.path)?.[1];
      const operation = operationOf(request);
      if (project === undefined || operation === undefined) {
        return notFoundRoute(request);
      }
      if (operation === 'listTimeSeries') {
        const hasDescriptor = (type: string) => state.descriptors.has(`${project}\n${type}`);
        return listTimeSeries(
          state.series.values(),
          project,
          request.query,
          wantsIntEnums(request.query),
          hasDescriptor,
        );
      }
      const body = readJson(request);
      return body.ok ? createTimeSeries(state, project, body.value, clock(), rules) : invalidJson();
    },
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  return {
    emulator,
    series: () => [...state.series.values()],
    descriptors: () => [...state.descriptors.values()],
  };
}

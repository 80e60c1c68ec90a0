import { type Clock, systemClock } from '../../shared/ports/clock.ts';
import { DEFAULT_MAX_DATAPOINTS, getMetricData } from './cloudwatch-get.ts';
import type { StoredDatum } from './cloudwatch-metrics.ts';
import { parsePutMetricData } from './cloudwatch-put.ts';
import { AwsServiceError } from './errors.ts';
import { type JsonAction, type JsonService, startJsonEmulator } from './json-protocol.ts';

/** CloudWatch as @aws-sdk/client-cloudwatch ≥ 3.949 speaks it: awsJson1_0, query-compatible errors. */
const SERVICE: JsonService = {
  contentType: 'application/x-amz-json-1.0',
  targetPrefix: 'GraniteServiceVersion20100801',
  queryCompatible: true,
  messageKey: 'message',
  shapeNames: {
    InvalidParameterValue: 'com.amazonaws.cloudwatch#InvalidParameterValueException',
    MissingParameter: 'com.amazonaws.cloudwatch#MissingRequiredParameterException',
    InvalidParameterCombination: 'com.amazonaws.cloudwatch#InvalidParameterCombinationException',
    InvalidNextToken: 'com.amazonaws.cloudwatch#InvalidNextToken',
    Throttling: 'com.amazon.coral.availability#ThrottlingException',
    UnknownOperationException: 'com.amazon.coral.service#UnknownOperationException',
    SerializationException: 'com.amazon.coral.service#SerializationException',
    MissingAuthenticationToken: 'com.amazon.coral.service#MissingAuthenticationTokenException',
  },
};

/** Bytes: PutMetricData's request limit (measured here after gzip is undone, which only makes it stricter). */
const MAX_PUT_BYTES = 1_048_576;

export interface CloudWatchEmulatorOptions {
  /** Receive time of datums without a Timestamp, and "now" for Timestamp checks. Default: the system clock. */
  readonly clock?: Clock;
  /** At most this many datapoints per GetMetricData page (default CloudWatch's 100,800), to exercise NextToken. */
  readonly datapointsPerPage?: number;
  readonly port?: number;
}

export type CloudWatchEmulator = Awaited<ReturnType<typeof startCloudWatchEmulator>>;

export async function startCloudWatchEmulator(options: CloudWatchEmulatorOptions = {}) {
  const clock = options.clock ?? systemClock;
  const pageLimit = options.datapointsPerPage ?? DEFAULT_MAX_DATAPOINTS;
  const stored: StoredDatum[] = [];

  const actions: Readonly<Record<string, JsonAction>> = {
    PutMetricData(body, request) {
      if (request.body.length > MAX_PUT_BYTES) {
        throw new AwsServiceError(
          'RequestEntityTooLarge',
          `Request size ${request.body.length} exceeded ${MAX_PUT_BYTES} bytes`,
          { status: 413 },
        );
      }
      stored.push(...parsePutMetricData(body, clock()));
      return {};
    },
    GetMetricData: (body) => getMetricData(body, stored, pageLimit),
  };
  const emulator = await startJsonEmulator(SERVICE, {
    name: 'cloudwatch',
    actions,
    throttleCode: 'Throttling',
    clock,
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  return {
    emulator,
    /** Every accepted datum, oldest first. */
    datums: (): readonly StoredDatum[] => stored,
    clearDatums(): void {
      stored.length = 0;
    },
    close: () => emulator.close(),
  };
}

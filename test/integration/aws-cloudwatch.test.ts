import {
  CloudWatchClient,
  GetMetricDataCommand,
  type MetricDatum,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsClientConfig, type CloudWatchEmulator, startCloudWatchEmulator } from '../../local/aws/index.ts';
import {
  createCloudWatchMetricsSink,
  createCloudWatchQueueHistory,
} from '../../shared/aws/cloudwatch-queue-metrics.ts';
import { createCloudWatchRemovalLedger } from '../../shared/aws/cloudwatch-removal-ledger.ts';
import { isRecord } from '../../shared/domain/guards.ts';
import { type Clock, systemClock } from '../../shared/ports/clock.ts';
import { defineQueueMetricsContract } from '../contract/queue-metrics.contract.ts';
import { defineRemovalLedgerContract } from '../contract/removal-ledger.contract.ts';

const T0 = Date.UTC(2025, 0, 6, 12);
const MINUTE = 60_000;

let cloudwatch: CloudWatchEmulator;
let client: CloudWatchClient;
/** The emulator outlives each contract subject; each subject brings its own clock, swapped in here. */
let clock: Clock = systemClock;
/** Content-Encoding of every request as it left the SDK, after its compression step. */
const encodings: (string | undefined)[] = [];

beforeAll(async () => {
  cloudwatch = await startCloudWatchEmulator({ clock: () => clock(), datapointsPerPage: 2 });
  client = new CloudWatchClient({ ...awsClientConfig(cloudwatch.emulator), maxAttempts: 1 });
  client.middlewareStack.add(
    (next) => async (args) => {
      const headers = isRecord(args.request) && isRecord(args.request.headers) ? args.request.headers : {};
      const encoding = headers['content-encoding'];
      encodings.push(typeof encoding === 'string' ? encoding : undefined);
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordEncoding' },
  );
});
afterAll(async () => {
  client.destroy();
  await cloudwatch.close();
});

defineQueueMetricsContract(
  'CloudWatch adapters over the CloudWatch emulator (real SDK, loopback HTTP)',
  (subjectClock) => {
    clock = subjectClock;
    cloudwatch.clearDatums();
    cloudwatch.emulator.clearFaults();
    const options = { namespace: 'sourcegraph-executor' };
    return {
      sink: createCloudWatchMetricsSink(client, options),
      history: createCloudWatchQueueHistory(client, options),
    };
  },
);

defineRemovalLedgerContract(
  'CloudWatch ledger over the CloudWatch emulator (real SDK, loopback HTTP)',
  (subjectClock) => {
    clock = subjectClock;
    cloudwatch.clearDatums();
    cloudwatch.emulator.clearFaults();
    return createCloudWatchRemovalLedger(client);
  },
);

const datum = (value: number, queue = 'codeintel'): MetricDatum => ({
  MetricName: 'src_executors_queue_size',
  Dimensions: [{ Name: 'queueName', Value: queue }],
  Value: value,
});

describe('CloudWatch emulator with the real CloudWatchClient', () => {
  let now: number;
  beforeEach(() => {
    now = T0;
    clock = () => now;
    cloudwatch.clearDatums();
    cloudwatch.emulator.clearFaults();
    encodings.length = 0;
  });

  it('takes 1000 datums in one gzip-compressed PutMetricData', async () => {
    // Prepare
    const data = Array.from({ length: 1000 }, (_, index) => datum(index));

    // Act
    await client.send(new PutMetricDataCommand({ Namespace: 'fleetplane-test', MetricData: data }));

    // Assess
    expect(encodings).toEqual(['gzip']);
    expect(cloudwatch.datums()).toHaveLength(1000);
    expect(cloudwatch.datums()[999]).toMatchObject({ maximum: 999, at: T0, unit: 'None' });
  });

  it('answers each statistic per period, newest first, across NextToken pages', async () => {
    // Prepare
    for (const [offset, values] of [
      [0, [1, 5]],
      [MINUTE, [2]],
      [2 * MINUTE, [7, 3]],
    ] as const) {
      now = T0 + offset;
      await client.send(
        new PutMetricDataCommand({ Namespace: 'fleetplane-test', MetricData: values.map((v) => datum(v)) }),
      );
    }
    const stat = (id: string, Stat: string) => ({
      Id: id,
      MetricStat: { Metric: { Namespace: 'fleetplane-test', ...datum(0) }, Period: 60, Stat },
    });
    const queries = [stat('max', 'Maximum'), stat('sum', 'Sum'), stat('count', 'SampleCount'), stat('avg', 'Average')];
    const window = { StartTime: new Date(T0), EndTime: new Date(T0 + 3 * MINUTE), MetricDataQueries: queries };

    // Act
    const results = new Map<string, { values: number[]; times: number[]; status: string[] }>();
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new GetMetricDataCommand({ ...window, NextToken: token }));
      for (const result of page.MetricDataResults ?? []) {
        const seen = results.get(result.Id ?? '') ?? { values: [], times: [], status: [] };
        seen.values.push(...(result.Values ?? []));
        seen.times.push(...(result.Timestamps ?? []).map((at) => at.getTime()));
        seen.status.push(result.StatusCode ?? '');
        results.set(result.Id ?? '', seen);
      }
      token = page.NextToken;
      pages += 1;
    } while (token !== undefined);

    // Assess: two datapoints a page, so 12 datapoints take 6 pages; a query is Complete on its last page only
    expect(pages).toBe(6);
    expect(results.get('max')).toEqual({
      values: [7, 2, 5],
      times: [T0 + 2 * MINUTE, T0 + MINUTE, T0],
      status: ['PartialData', 'Complete'],
    });
    expect(results.get('sum')?.values).toEqual([10, 2, 6]);
    expect(results.get('count')?.values).toEqual([2, 1, 2]);
    expect(results.get('avg')?.values).toEqual([5, 2, 3]);
  });

  it.each([
    [
      'a NaN value',
      { Namespace: 'n', MetricData: [datum(Number.NaN)] },
      'InvalidParameterValue',
      'MetricData.member.1.Value',
    ],
    ['an AWS/ namespace', { Namespace: 'AWS/EC2', MetricData: [datum(1)] }, 'InvalidParameterValue', 'Namespace'],
    [
      '1001 datums',
      { Namespace: 'n', MetricData: Array.from({ length: 1001 }, () => datum(1)) },
      'InvalidParameterValue',
      '1000',
    ],
    [
      '31 dimensions',
      {
        Namespace: 'n',
        MetricData: [
          { ...datum(1), Dimensions: Array.from({ length: 31 }, (_, i) => ({ Name: `d${i}`, Value: 'v' })) },
        ],
      },
      'InvalidParameterValue',
      '30',
    ],
    ['no datums', { Namespace: 'n', MetricData: [] }, 'MissingParameter', 'MetricData'],
    [
      'a Timestamp three hours ahead',
      { Namespace: 'n', MetricData: [{ ...datum(1), Timestamp: new Date(T0 + 3 * 3_600_000) }] },
      'InvalidParameterValue',
      'two hours',
    ],
  ])('refuses %s, storing nothing, with the query error code', async (_, input, code, mention) => {
    // Act
    const put = client.send(new PutMetricDataCommand(input)).catch((error: unknown) => error);

    // Assess: the SDK names modelled errors after their shape and keeps the query code in `Code`
    const error = await put;
    expect(error).toMatchObject({
      name: `${code === 'MissingParameter' ? 'MissingRequiredParameter' : code}Exception`,
      Code: code,
      $fault: 'client',
    });
    expect(error instanceof Error ? error.message : '').toContain(mention);
    expect(cloudwatch.datums()).toHaveLength(0);
  });

  it('throttles as CloudWatch does: 400 Throttling, retried by the SDK', async () => {
    // Prepare
    const retrying = new CloudWatchClient({ ...awsClientConfig(cloudwatch.emulator), maxAttempts: 2 });
    cloudwatch.emulator.injectFault({ kind: 'throttle', times: 2 });

    // Act
    const put = retrying.send(new PutMetricDataCommand({ Namespace: 'n', MetricData: [datum(1)] }));

    // Assess
    await expect(put).rejects.toMatchObject({ name: 'Throttling', $metadata: { httpStatusCode: 400, attempts: 2 } });
    retrying.destroy();
  });

  it('refuses other protocols, unknown targets and unsigned requests', async () => {
    // Prepare
    const authorization = 'AWS4-HMAC-SHA256 Credential=AKID/20250106/us-east-1/monitoring/aws4_request';
    const json = { authorization, 'content-type': 'application/x-amz-json-1.0' };
    const send = (headers: Record<string, string>, body: string) =>
      fetch(cloudwatch.emulator.url, { method: 'POST', headers, body });

    // Act
    const query = await send(
      { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      'Action=PutMetricData',
    );
    const unknown = await send({ ...json, 'x-amz-target': 'GraniteServiceVersion20100801.ListMetrics' }, '{}');
    const unsigned = await send(
      { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'GraniteServiceVersion20100801.PutMetricData' },
      '{}',
    );

    // Assess
    expect(query.status).toBe(400);
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('x-amzn-query-error')).toBe('UnknownOperationException;Sender');
    expect(await unknown.json()).toMatchObject({ __type: expect.stringContaining('UnknownOperationException') });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-query-error')).toBe('MissingAuthenticationToken;Sender');
  });
});

import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  loadConfig,
  parseConfigText,
  parseWorkerEnv,
  resolveConfigSource,
  SecretValue,
} from '../../../shared/config/index.ts';

const TOKEN = 'sgp_0123456789abcdef0123456789abcdef01234567';

const VALID = `
environment: prod
sourcegraph:
  endpoint: https://sourcegraph.example.com/
  token: ${TOKEN}
fleets:
  - name: codeintel
    queues: [codeintel]
    mode: direct
    target: { cloud: aws, region: us-east-1, autoScalingGroup: executors-codeintel }
    jobsPerInstance: 360
    minInstances: 1
    maxInstances: 10
  - name: multi
    queues: [codeintel, batches]
    mode: metrics
    jobsPerInstance: 20
    maxInstances: 5
`;

function problemsOf(action: () => unknown): readonly string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) {
      return error.problems;
    }
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfigText', () => {
  it('parses a document into a frozen config with defaults', () => {
    // Act
    const config = parseConfigText(VALID, 'test', { AWS_REGION: 'eu-west-1' });

    // Assess
    expect(config.environment).toBe('prod');
    expect(config.sourcegraph.endpoint).toBe('https://sourcegraph.example.com');
    expect(config.cloudwatch).toEqual({ namespace: 'sourcegraph-executor', region: 'eu-west-1' });
    expect(config.series).toEqual(['codeintel', 'batches_codeintel']);
    expect(config.fleets[1]).toMatchObject({ series: 'batches_codeintel', minInstances: 0, scaleInWindowSeconds: 600 });
    expect(config.pollIntervalSeconds).toBe(10);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.fleets[0])).toBe(true);
  });

  it('accepts JSON as well as YAML', () => {
    // Prepare
    const json = JSON.stringify({
      sourcegraph: { endpoint: 'http://127.0.0.1:3080', token: TOKEN },
      metrics: { cloudwatch: { region: 'us-west-2', namespace: 'custom' } },
      fleets: [
        {
          name: 'b',
          queues: ['batches'],
          mode: 'shadow',
          jobsPerInstance: 2,
          maxInstances: 3,
          target: { cloud: 'aws', region: 'us-west-2', autoScalingGroup: 'g' },
        },
      ],
    });

    // Act
    const config = parseConfigText(json, 'test', {});

    // Assess
    expect(config.cloudwatch).toEqual({ namespace: 'custom', region: 'us-west-2' });
    expect(config.environment).toBe('dev');
  });

  it('refuses an environment too long to be a dimension, label and alarm name', () => {
    // Act
    const problems = problemsOf(() =>
      parseConfigText(
        `environment: ${'e'.repeat(256)}\nsourcegraph: { endpoint: https://sg.example.com, token: ${TOKEN} }\nfleets: []`,
        'test',
        {},
      ),
    );

    // Assess
    expect(problems).toContainEqual(expect.stringMatching(/^environment: .*255/));
  });

  it('names every bad key at once', () => {
    // Prepare
    const text = `
sourcegraph:
  endpoint: not a url
  token: ${TOKEN}
  tokn: typo
pollIntervalSeconds: 0
fleets:
  - name: a
    queues: [codeintel, cobol]
    mode: turbo
    jobsPerInstance: 0
    maxInstances: 3
    target: { cloud: aws, region: mars-1, autoScalingGroup: g }
`;

    // Act
    const problems = problemsOf(() => parseConfigText(text, 'test', {}));

    // Assess
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^sourcegraph\.endpoint: /),
        'sourcegraph.tokn: unknown key',
        expect.stringMatching(/^pollIntervalSeconds: /),
        expect.stringMatching(/^fleets\[0\]\.queues\[1\]: /),
        expect.stringMatching(/^fleets\[0\]\.mode: /),
        expect.stringMatching(/^fleets\[0\]\.jobsPerInstance: /),
        expect.stringMatching(/^fleets\[0\]\.target\.region: /),
      ]),
    );
    expect(problems).toHaveLength(7);
  });

  it('reports cross-field problems together', () => {
    // Prepare
    const text = `
sourcegraph: { endpoint: https://sg.example.com }
fleets:
  - { name: a, queues: [codeintel], mode: direct, jobsPerInstance: 1, minInstances: 5, maxInstances: 2 }
  - { name: a, queues: [batches], mode: direct, jobsPerInstance: 1, maxInstances: 2, target: { cloud: aws, region: us-east-1, autoScalingGroup: g } }
  - { name: c, queues: [batches], mode: shadow, jobsPerInstance: 1, maxInstances: 2, target: { cloud: aws, region: us-east-1, autoScalingGroup: g } }
`;

    // Act
    const problems = problemsOf(() => parseConfigText(text, 'test', {}));

    // Assess
    expect(problems).toEqual([
      'fleets[0].minInstances: 5 is above maxInstances 2',
      'fleets[0].target: required in direct mode (the group to resize)',
      'fleets[1].name: "a" is already used by fleets[0]',
      'fleets[2].target: group aws:us-east-1:g is already managed by fleets[1]',
      expect.stringMatching(/^sourcegraph\.token: required/),
    ]);
  });

  it('reads GCP fleets, Cloud Monitoring and a Secret Manager token, without CloudWatch', () => {
    // Prepare
    const text = `
sourcegraph:
  endpoint: https://sourcegraph.example.com
  tokenSecret: { gcpSecretManager: projects/p1/secrets/sg-token/versions/latest }
metrics: { cloudMonitoring: { projectId: my-project } }
fleets:
  - { name: zonal, queues: [codeintel], mode: direct, jobsPerInstance: 20, maxInstances: 5, scaleIn: { mode: attrition },
      target: { cloud: gcp, project: my-project, zone: us-central1-a, instanceGroupManager: executors } }
  - { name: regional, queues: [batches], mode: shadow, jobsPerInstance: 20, maxInstances: 5,
      target: { cloud: gcp, project: my-project, region: us-central1, instanceGroupManager: batches } }
`;

    // Act
    const config = parseConfigText(text, 'test', {});

    // Assess
    expect(config.cloudwatch).toBeUndefined();
    expect(config.cloudMonitoring).toEqual({ projectId: 'my-project' });
    expect(config.sourcegraph.token).toEqual({
      kind: 'gcp-secret-manager',
      name: 'projects/p1/secrets/sg-token/versions/latest',
    });
    expect(config.fleets.map((fleet) => fleet.target)).toEqual([
      { cloud: 'gcp', project: 'my-project', zone: 'us-central1-a', instanceGroupManager: 'executors' },
      { cloud: 'gcp', project: 'my-project', region: 'us-central1', instanceGroupManager: 'batches' },
    ]);
    expect(config.allocations.codeintel).toEqual({ aws: 0, gcp: 1 });
  });

  it('splits allocations the same way on both clouds when one document serves both', () => {
    // Prepare
    const both = VALID.replace(
      'environment: prod',
      'environment: prod\nmetrics: { cloudwatch: {}, cloudMonitoring: { projectId: my-project } }\nallocations: { codeintel: { aws: 0.25, gcp: 0.75 } }',
    );

    // Act: on Lambda (AWS_REGION set) and on Cloud Functions (no AWS region at all)
    const onAws = parseConfigText(both, 'test', { AWS_REGION: 'us-east-1' });
    const onGcp = parseConfigText(both, 'test', {});

    // Assess
    expect(onAws.allocations.codeintel).toEqual({ aws: 0.25, gcp: 0.75 });
    expect(onAws.allocations.batches).toEqual({ aws: 1, gcp: 1 });
    expect(onGcp.allocations).toEqual(onAws.allocations);
    expect(onAws.cloudwatch).toEqual({ namespace: 'sourcegraph-executor', region: 'us-east-1' });
    expect(onGcp.cloudwatch).toBeUndefined();
    expect(onGcp.cloudMonitoring).toEqual({ projectId: 'my-project' });
  });

  it('refuses a GCP group with both or neither of zone and region', () => {
    // Prepare
    const target = (location: string) =>
      VALID.replace(
        '{ cloud: aws, region: us-east-1, autoScalingGroup: executors-codeintel }',
        `{ cloud: gcp, project: my-project, ${location} instanceGroupManager: executors }`,
      );

    // Act
    const both = problemsOf(() => parseConfigText(target('zone: us-central1-a, region: us-central1,'), 'test', {}));
    const neither = problemsOf(() => parseConfigText(target(''), 'test', {}));

    // Assess
    expect(both).toEqual([expect.stringMatching(/^fleets\[0\]\.target: give exactly one of zone .* or region/)]);
    expect(neither).toEqual(both);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problemsOf(() => parseConfigText('fleets: [\n  - a: 1\n', 'test', {}))[0]).toMatch(/^line \d+: /);
    expect(problemsOf(() => parseConfigText('a: 1\na: 2\n', 'test', {}))[0]).toMatch(/DUPLICATE_KEY/);
  });

  it('never puts the token in an error or in the serialized config', () => {
    // Prepare
    const bad = VALID.replace('maxInstances: 10', 'maxInstances: -1');

    // Act
    const problems = problemsOf(() => parseConfigText(bad, 'test', { AWS_REGION: 'us-east-1' }));
    const config = parseConfigText(VALID, 'test', { AWS_REGION: 'us-east-1' });

    // Assess
    expect(problems.join('\n')).not.toContain(TOKEN);
    expect(JSON.stringify(config)).not.toContain(TOKEN);
    expect(String(config.sourcegraph.token.kind === 'value' && config.sourcegraph.token.value)).toBe('[redacted]');
    expect(config.sourcegraph.token).toEqual({ kind: 'value', value: expect.any(SecretValue) });
  });

  it('drops the trailing newline of a token mounted from a file, and still refuses white space inside it', () => {
    // Prepare
    const withoutToken = VALID.replace(`token: ${TOKEN}`, '');

    // Act
    const mounted = parseConfigText(withoutToken, 'test', { AWS_REGION: 'us-east-1', SRC_ACCESS_TOKEN: `${TOKEN}\n` });
    const broken = problemsOf(() =>
      parseConfigText(withoutToken, 'test', { AWS_REGION: 'us-east-1', SRC_ACCESS_TOKEN: `${TOKEN} x` }),
    );

    // Assess
    expect(mounted.sourcegraph.token.kind === 'value' && mounted.sourcegraph.token.value.reveal()).toBe(TOKEN);
    expect(broken).toEqual([expect.stringMatching(/white space/)]);
  });

  it('takes the token from a Secrets Manager reference or from SRC_ACCESS_TOKEN', () => {
    // Prepare
    const withSecret = VALID.replace(
      `token: ${TOKEN}`,
      'tokenSecret: { awsSecretsManager: fleetplane/sg, jsonKey: token }',
    );
    const withoutToken = VALID.replace(`token: ${TOKEN}`, '');

    // Act
    const fromSecret = parseConfigText(withSecret, 'test', { AWS_REGION: 'us-east-1' });
    const fromEnv = parseConfigText(withoutToken, 'test', { AWS_REGION: 'us-east-1', SRC_ACCESS_TOKEN: TOKEN });

    // Assess
    expect(fromSecret.sourcegraph.token).toEqual({
      kind: 'aws-secrets-manager',
      secretId: 'fleetplane/sg',
      jsonKey: 'token',
    });
    expect(fromEnv.sourcegraph.token.kind === 'value' && fromEnv.sourcegraph.token.value.reveal()).toBe(TOKEN);
  });
});

describe('busy-aware scale-in settings', () => {
  const withScaleIn = (scaleIn: string, busySignal = '') =>
    VALID.replace('    maxInstances: 10\n', `    maxInstances: 10\n    scaleIn: ${scaleIn}\n`) + busySignal;

  it("reads the busy signal and each fleet's scale-in mode and victim order, with defaults", () => {
    const config = parseConfigText(
      withScaleIn('{ mode: resize }', 'busySignal:\n  url: http://sourcegraph-worker:6996/metrics\n'),
      'test',
      { AWS_REGION: 'us-east-1' },
    );
    expect(config.busySignal).toEqual({ url: 'http://sourcegraph-worker:6996/metrics', timeoutMs: 5000 });
    expect(config.fleets[0]?.scaleIn).toEqual({ mode: 'resize', order: 'oldest-first' });
    expect(config.fleets[1]?.scaleIn).toEqual({ mode: 'busy-signal', order: 'oldest-first' });
  });

  it('makes a direct GCE fleet without a busy signal choose its scale-in mode', () => {
    const text = `
sourcegraph: { endpoint: https://sourcegraph.example.com, token: t }
metrics: { cloudMonitoring: { projectId: my-project } }
fleets:
  - { name: zonal, queues: [codeintel], mode: direct, jobsPerInstance: 2, maxInstances: 5,
      target: { cloud: gcp, project: my-project, zone: us-central1-a, instanceGroupManager: executors } }
`;
    expect(problemsOf(() => parseConfigText(text, 'test', {}))).toEqual([
      "fleets[0].scaleIn.mode: without busySignal.url a GCE fleet must choose: attrition (and set the MIG's instanceLifecyclePolicy.defaultActionOnFailure to DO_NOTHING) or resize (the MIG picks the VMs, busy or not)",
    ]);
  });

  it('never lets the cloud pick busy instances unless asked: attrition without a busy signal', () => {
    const config = parseConfigText(withScaleIn('{ order: newest-first }'), 'test', { AWS_REGION: 'us-east-1' });
    expect(config.fleets.map((fleet) => fleet.scaleIn)).toEqual([
      { mode: 'attrition', order: 'newest-first' },
      { mode: 'attrition', order: 'oldest-first' },
    ]);
  });

  it('refuses busy-signal scale-in without a busy signal, and unknown modes and orders, all at once', () => {
    expect(problemsOf(() => parseConfigText(withScaleIn('{ mode: busy-signal }'), 'test', {}))).toEqual([
      "fleets[0].scaleIn.mode: busy-signal needs busySignal.url (where the executors' running jobs are read)",
    ]);
    const problems = problemsOf(() =>
      parseConfigText(withScaleIn('{ mode: gentle, order: random }', 'busySignal: { url: ftp://x }\n'), 'test', {}),
    );
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/fleets\[0\]\.scaleIn\.mode/);
    expect(problems.join('\n')).toMatch(/fleets\[0\]\.scaleIn\.order/);
    expect(problems.join('\n')).toMatch(/busySignal\.url/);
  });
});

describe('fleet controls', () => {
  const withKeys = (keys: string) => VALID.replace('    maxInstances: 10\n', `    maxInstances: 10\n${keys}`);

  it('reads pauses, step limits and the idle buffer; a fleet without them has no controls', () => {
    const config = parseConfigText(
      withKeys(
        '    pause: scale-in\n    idleBuffer: 2\n    scaleOut: { maxStep: 3 }\n    scaleIn: { maxStep: 1, maxPerWindow: 4 }\n',
      ),
      'test',
      { AWS_REGION: 'us-east-1' },
    );
    expect(config.fleets[0]?.controls).toEqual({
      pause: 'scale-in',
      maxScaleOutStep: 3,
      maxScaleInStep: 1,
      maxScaleInPerWindow: 4,
      idleBuffer: 2,
    });
    expect(config.fleets[0]?.scaleIn).toEqual({ mode: 'attrition', order: 'oldest-first' });
    expect(config.fleets[1]?.controls).toBeUndefined();
  });

  it('rolls a fleet with a group all at once by default, with its own settings, or not at all; one without a group never', () => {
    const rolled = parseConfigText(withKeys('    roll: { maxUnavailable: 25%, maxSurge: 1 }\n'), 'test', {
      AWS_REGION: 'us-east-1',
    });
    expect(rolled.fleets[0]?.roll).toEqual({ maxUnavailable: { percent: 25 }, maxSurge: { fixed: 1 } });
    const byDefault = parseConfigText(VALID, 'test', { AWS_REGION: 'us-east-1' });
    expect(byDefault.fleets[0]?.roll).toEqual({ maxUnavailable: { percent: 100 }, maxSurge: { fixed: 0 } });
    expect(byDefault.fleets[1]?.roll).toBeUndefined();
    const optedOut = parseConfigText(withKeys('    roll: false\n'), 'test', { AWS_REGION: 'us-east-1' });
    expect(optedOut.fleets[0]?.roll).toBeUndefined();
  });

  it('refuses roll settings that could never replace an instance or are not counts or percentages, all at once', () => {
    for (const roll of ['{ maxUnavailable: 0 }', '{ maxUnavailable: 0%, maxSurge: 0% }']) {
      expect(problemsOf(() => parseConfigText(withKeys(`    roll: ${roll}\n`), 'test', {}))).toEqual([
        'fleets[0].roll: maxUnavailable and maxSurge are both 0, so no instance could ever be replaced',
      ]);
    }
    const problems = problemsOf(() =>
      parseConfigText(withKeys('    roll: { maxUnavailable: 150%, maxSurge: -1 }\n'), 'test', {}),
    );
    expect(problems.join('\n')).toMatch(/fleets\[0\]\.roll/);
    expect(problems.length).toBeGreaterThanOrEqual(1);
  });

  it('refuses a jitter as long as the poll interval', () => {
    expect(problemsOf(() => parseConfigText(withKeys('    jitterSeconds: 10\n'), 'test', {}))).toEqual([
      'fleets[0].jitterSeconds: 10 must be below pollIntervalSeconds 10, or cycles overlap',
    ]);
    const config = parseConfigText(withKeys('    jitterSeconds: 2.5\n'), 'test', { AWS_REGION: 'us-east-1' });
    expect(config.fleets[0]?.jitterSeconds).toBe(2.5);
    expect(config.fleets[1]?.jitterSeconds).toBeUndefined();
  });

  it('refuses a buffer that can never fit, an unknown pause and a zero step, all at once', () => {
    const problems = problemsOf(() =>
      parseConfigText(withKeys('    idleBuffer: 10\n    pause: sometimes\n    scaleOut: { maxStep: 0 }\n'), 'test', {}),
    );
    expect(problems.join('\n')).toMatch(/fleets\[0\]\.pause/);
    expect(problems.join('\n')).toMatch(/fleets\[0\]\.scaleOut\.maxStep/);
    const buffer = problemsOf(() => parseConfigText(withKeys('    idleBuffer: 10\n'), 'test', {}));
    expect(buffer).toEqual([
      'fleets[0].idleBuffer: 10 warm instances leave no room for one running jobs within maxInstances 10',
    ]);
  });
});

describe('fleet schedules', () => {
  const withSchedules = (schedules: string) =>
    VALID.replace('    maxInstances: 10\n', `    maxInstances: 10\n    schedules:\n${schedules}`);

  it('reads time-of-day schedules', () => {
    const config = parseConfigText(
      withSchedules('      - { cron: "* 8-17 * * 1-5", timezone: Europe/Berlin, minInstances: 3, idleBuffer: 1 }\n'),
      'test',
      { AWS_REGION: 'us-east-1' },
    );
    expect(config.fleets[0]?.schedules).toEqual([
      { cron: '* 8-17 * * 1-5', timezone: 'Europe/Berlin', minInstances: 3, idleBuffer: 1 },
    ]);
  });

  it('names a bad cron, an unknown time zone, a minimum above the maximum and an empty schedule, all at once', () => {
    const problems = problemsOf(() =>
      parseConfigText(
        withSchedules(
          [
            '      - { cron: "* 8-17 * *", timezone: Europe/Berlin, minInstances: 1 }',
            '      - { cron: "* 8-17 * * 1-5", timezone: Mars/Olympus, minInstances: 1 }',
            '      - { cron: "* 8-17 * * 1-5", timezone: UTC, minInstances: 11 }',
            '      - { cron: "* 8-17 * * 1-5", timezone: UTC }',
            '',
          ].join('\n'),
        ),
        'test',
        {},
      ),
    );
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^fleets\[0\]\.schedules\[0\]: .*five, six, or seven/);
    expect(problems[1]).toMatch(/^fleets\[0\]\.schedules\[1\]: .*Mars\/Olympus/);
    expect(problems[2]).toBe('fleets[0].schedules[2].minInstances: 11 is above maxInstances 10');
    expect(problems[3]).toBe('fleets[0].schedules[3]: sets nothing; give minInstances, idleBuffer or both');
  });
});

describe('parseWorkerEnv (drop-in mode)', () => {
  const WORKER_ENV = {
    SRC_ENDPOINT: 'https://sourcegraph.example.com',
    SRC_ACCESS_TOKEN: TOKEN,
    EXECUTOR_METRIC_AWS_NAMESPACE: 'sourcegraph-executor',
    EXECUTOR_METRIC_AWS_REGION: 'us-west-2',
  };

  it("uses the worker's defaults and writes its three series", () => {
    // Act
    const config = parseWorkerEnv(WORKER_ENV);

    // Assess
    expect(config.environment).toBe('dev');
    expect(config.series).toEqual(['codeintel', 'batches', 'batches_codeintel']);
    expect(config.fleets).toEqual([]);
    expect(config.cloudwatch).toEqual({ namespace: 'sourcegraph-executor', region: 'us-west-2' });
    expect(config.allocations).toEqual({ batches: { aws: 1, gcp: 0 }, codeintel: { aws: 1, gcp: 0 } });
  });

  it("reads the worker's label, static keys and allocations", () => {
    // Act
    const config = parseWorkerEnv({
      ...WORKER_ENV,
      EXECUTOR_METRIC_ENVIRONMENT_LABEL: 'prod',
      EXECUTOR_METRIC_AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      EXECUTOR_METRIC_AWS_SECRET_ACCESS_KEY: 'secret-key-value',
      EXECUTOR_METRIC_AWS_SESSION_TOKEN: 'session-token-value',
      EXECUTOR_METRIC_GCP_PROJECT_ID: 'p1',
      EXECUTOR_ALLOCATIONS: '{"codeintel": {"aws": 0.5, "gcp": 0.5}}',
    });

    // Assess
    expect(config.environment).toBe('prod');
    expect(config.cloudwatch?.credentials?.accessKeyId).toBe('AKIAEXAMPLE');
    expect(config.cloudwatch?.credentials?.secretAccessKey.reveal()).toBe('secret-key-value');
    expect(config.allocations).toEqual({ codeintel: { aws: 0.5, gcp: 0.5 }, batches: { aws: 1, gcp: 1 } });
    expect(JSON.stringify(config)).not.toMatch(/secret-key-value|session-token-value/);
  });

  it('falls back to the Lambda region', () => {
    const { EXECUTOR_METRIC_AWS_REGION: _, ...env } = WORKER_ENV;
    expect(parseWorkerEnv({ ...env, AWS_REGION: 'ap-south-1' }).cloudwatch?.region).toBe('ap-south-1');
  });

  it('names every missing or bad variable at once, without the secrets', () => {
    // Act
    const problems = problemsOf(() =>
      parseWorkerEnv({
        SRC_ENDPOINT: 'ftp://x',
        EXECUTOR_METRIC_AWS_ACCESS_KEY_ID: 'AKIA',
        EXECUTOR_ALLOCATIONS: '{"codeintel": {"azure": 1}, "cobol": {}, "batches": {"aws": 2}}',
      }),
    );

    // Assess
    expect(problems).toEqual([
      'SRC_ENDPOINT: must be an http(s) URL',
      expect.stringMatching(/^SRC_ACCESS_TOKEN: required/),
      expect.stringMatching(/^EXECUTOR_METRIC_AWS_NAMESPACE or EXECUTOR_METRIC_GCP_PROJECT_ID: required/),
      expect.stringMatching(/^EXECUTOR_METRIC_AWS_SECRET_ACCESS_KEY: required/),
      expect.stringMatching(/^EXECUTOR_ALLOCATIONS\.codeintel\.azure/),
      expect.stringMatching(/^EXECUTOR_ALLOCATIONS\.batches\.aws: /),
      'EXECUTOR_ALLOCATIONS.cobol: unknown key',
    ]);
  });

  it('needs a region for the AWS writer', () => {
    // Prepare
    const { EXECUTOR_METRIC_AWS_REGION: _, ...env } = WORKER_ENV;

    // Act
    const problems = problemsOf(() => parseWorkerEnv(env));

    // Assess
    expect(problems).toEqual([expect.stringMatching(/^EXECUTOR_METRIC_AWS_REGION: required/)]);
  });

  it("turns on the GCP writer with the worker's project and credentials variables", () => {
    // Prepare
    const key = JSON.stringify({ type: 'service_account', private_key: '-----BEGIN PRIVATE KEY-----abc' });
    const env = {
      SRC_ENDPOINT: WORKER_ENV.SRC_ENDPOINT,
      SRC_ACCESS_TOKEN: TOKEN,
      EXECUTOR_METRIC_GCP_PROJECT_ID: 'my-project',
      EXECUTOR_METRIC_GOOGLE_APPLICATION_CREDENTIALS_FILE_CONTENT: key,
    };

    // Act
    const config = parseWorkerEnv(env);
    const fromFile = parseWorkerEnv({ ...env, EXECUTOR_METRIC_GOOGLE_APPLICATION_CREDENTIALS_FILE: '/etc/key.json' });
    const garbled = problemsOf(() =>
      parseWorkerEnv({ ...env, EXECUTOR_METRIC_GOOGLE_APPLICATION_CREDENTIALS_FILE_CONTENT: 'ZXlK-base64' }),
    );

    // Assess
    expect(config.cloudwatch).toBeUndefined();
    expect(config.cloudMonitoring?.projectId).toBe('my-project');
    expect(config.cloudMonitoring?.credentials?.kind).toBe('content');
    expect(JSON.stringify(config)).not.toContain('PRIVATE KEY');
    expect(fromFile.cloudMonitoring?.credentials).toEqual({ kind: 'file', path: '/etc/key.json' });
    expect(config.allocations).toEqual({ batches: { aws: 0, gcp: 1 }, codeintel: { aws: 0, gcp: 1 } });
    expect(garbled).toEqual([expect.stringMatching(/FILE_CONTENT: not JSON/)]);
    expect(garbled.join()).not.toContain('ZXlK');
  });

  it('rejects allocations that are not JSON', () => {
    expect(problemsOf(() => parseWorkerEnv({ ...WORKER_ENV, EXECUTOR_ALLOCATIONS: '{codeintel' }))).toEqual([
      expect.stringMatching(/^EXECUTOR_ALLOCATIONS: not valid JSON/),
    ]);
  });
});

describe('config sources', () => {
  it.each([
    [{ FLEETPLANE_CONFIG: '/etc/fleetplane.yml' }, { kind: 'file', path: '/etc/fleetplane.yml' }],
    [{ FLEETPLANE_CONFIG: './fleetplane.yaml' }, { kind: 'file', path: './fleetplane.yaml' }],
    [{ FLEETPLANE_CONFIG: 'fleetplane.json' }, { kind: 'file', path: 'fleetplane.json' }],
    [{ FLEETPLANE_CONFIG: '{"fleets": []}' }, { kind: 'inline', text: '{"fleets": []}' }],
    [{ FLEETPLANE_CONFIG: 'fleets: []' }, { kind: 'inline', text: 'fleets: []' }],
    [{ FLEETPLANE_CONFIG_SSM_PARAMETER: '/fleetplane/config' }, { kind: 'ssm', name: '/fleetplane/config' }],
    [{ FLEETPLANE_CONFIG: '  ' }, { kind: 'worker-env' }],
    [{}, { kind: 'worker-env' }],
  ])('%j → %j', (env, source) => {
    expect(resolveConfigSource(env)).toEqual(source);
  });

  it('refuses two sources at once', () => {
    expect(() => resolveConfigSource({ FLEETPLANE_CONFIG: 'a.yml', FLEETPLANE_CONFIG_SSM_PARAMETER: '/p' })).toThrow(
      ConfigError,
    );
  });

  it('reads files and SSM parameters through the given I/O and explains failures', async () => {
    // Prepare
    const io = {
      readFile: async (path: string) => {
        if (path === './ok.yml') return VALID;
        throw new Error(`ENOENT: no such file, open '${path}'`);
      },
      readSsmParameter: async () => VALID,
    };
    const env = { AWS_REGION: 'us-east-1' };

    // Act
    const fromFile = await loadConfig({ ...env, FLEETPLANE_CONFIG: './ok.yml' }, io);
    const fromSsm = await loadConfig({ ...env, FLEETPLANE_CONFIG_SSM_PARAMETER: '/fp' }, io);
    const missing = loadConfig({ ...env, FLEETPLANE_CONFIG: './missing.yml' }, io);

    // Assess
    expect(fromFile.source).toBe('file:./ok.yml');
    expect(fromSsm.source).toBe('ssm:/fp');
    await expect(missing).rejects.toThrow(/cannot read the config file: ENOENT/);
  });
});

describe('executorSecret', () => {
  const withSecret = (secret: string) => `${VALID}executorSecret: ${secret}\n`;

  it('reads the store and the token length, from either cloud', () => {
    const aws = parseConfigText(withSecret('{ awsSecretsManager: fleetplane/executor-token }'), 'test', {
      AWS_REGION: 'us-east-1',
    });
    const gcp = parseConfigText(
      withSecret('{ gcpSecretManager: projects/p1/secrets/executor-token, tokenLength: 64 }'),
      'test',
      {
        AWS_REGION: 'us-east-1',
      },
    );
    expect(aws.executorSecret).toEqual({
      store: { kind: 'aws-secrets-manager', secretId: 'fleetplane/executor-token' },
      tokenLength: 40,
    });
    expect(gcp.executorSecret).toEqual({
      store: { kind: 'gcp-secret-manager', name: 'projects/p1/secrets/executor-token' },
      tokenLength: 64,
    });
  });

  it('refuses a version in the GCP name, a token shorter than Sourcegraph accepts, and two stores', () => {
    for (const secret of [
      '{ gcpSecretManager: projects/p1/secrets/s/versions/latest }',
      '{ awsSecretsManager: s, tokenLength: 12 }',
      '{ awsSecretsManager: s, gcpSecretManager: projects/p1/secrets/s }',
    ]) {
      expect(problemsOf(() => parseConfigText(withSecret(secret), 'test', {})).join('\n')).toMatch(/executorSecret/);
    }
  });
});

describe('health settings', () => {
  it('defaults the grace period, stale threshold and replacement caps, and reads them in milliseconds', () => {
    const byDefault = parseConfigText(VALID, 'test', { AWS_REGION: 'us-east-1' });
    expect(byDefault.health).toEqual({
      graceMs: 600_000,
      staleMs: 300_000,
      maxReplacementsPerRun: 2,
      maxReplacementFraction: 0.25,
    });
    const set = parseConfigText(
      `${VALID}health: { graceSeconds: 900, staleSeconds: 120, maxReplacementsPerRun: 0, maxReplacementFraction: 0.5 }\n`,
      'test',
      { AWS_REGION: 'us-east-1' },
    );
    expect(set.health).toEqual({
      graceMs: 900_000,
      staleMs: 120_000,
      maxReplacementsPerRun: 0,
      maxReplacementFraction: 0.5,
    });
  });

  it('names every bad health key at once', () => {
    const problems = problemsOf(() =>
      parseConfigText(
        `${VALID}health: { graceSeconds: 5, staleSeconds: 1, maxReplacementFraction: 0, extra: 1 }\n`,
        'test',
        {},
      ),
    );
    const text = problems.join('\n');
    for (const key of ['graceSeconds', 'staleSeconds', 'maxReplacementFraction', 'extra']) {
      expect(text).toContain(key);
    }
  });
});

describe('webhook settings', () => {
  it('defaults to the platform’s IAM and reads an HMAC secret from either store', () => {
    expect(parseConfigText(VALID, 'test', { AWS_REGION: 'us-east-1' }).webhook).toEqual({ auth: 'iam' });
    const aws = parseConfigText(
      `${VALID}webhook: { auth: hmac, secret: { awsSecretsManager: fleetplane/webhook } }\n`,
      'test',
      {
        AWS_REGION: 'us-east-1',
      },
    );
    expect(aws.webhook).toEqual({
      auth: 'hmac',
      secret: { kind: 'aws-secrets-manager', secretId: 'fleetplane/webhook' },
      toleranceSeconds: 300,
    });
    const gcp = parseConfigText(
      `${VALID}webhook: { auth: hmac, secret: { gcpSecretManager: projects/p/secrets/webhook/versions/latest }, toleranceSeconds: 120 }\n`,
      'test',
      { AWS_REGION: 'us-east-1' },
    );
    expect(gcp.webhook).toMatchObject({ secret: { kind: 'gcp-secret-manager' }, toleranceSeconds: 120 });
  });

  it('refuses HMAC without a secret, and an unknown auth', () => {
    expect(problemsOf(() => parseConfigText(`${VALID}webhook: { auth: hmac }\n`, 'test', {})).join('\n')).toMatch(
      /webhook\.secret/,
    );
    expect(problemsOf(() => parseConfigText(`${VALID}webhook: { auth: none }\n`, 'test', {})).join('\n')).toMatch(
      /webhook\.auth/,
    );
  });
});

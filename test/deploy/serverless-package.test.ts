import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { isolatedEnv } from '../../local/child-env.ts';
import { zipEntries } from './zip-entries.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OSLS = join(REPO_ROOT, 'node_modules', '.bin', 'osls');
/** Bundling the SDK and zipping takes a few seconds; a loaded 2-core runner can take many times that. */
const PACKAGE_TIMEOUT_MS = 120_000;

const statementSchema = z.object({
  Action: z.array(z.string()),
  Resource: z.unknown(),
  Condition: z.unknown().optional(),
});
const templateSchema = z.object({
  Resources: z.record(
    z.string(),
    z.object({ Type: z.string(), Properties: z.record(z.string(), z.unknown()).optional() }),
  ),
});
const roleSchema = z.object({
  Policies: z.array(z.object({ PolicyDocument: z.object({ Statement: z.array(statementSchema) }) })),
});

type Resource = z.infer<typeof templateSchema>['Resources'][string];
type Statement = z.infer<typeof statementSchema>;

let packageDir: string;
let resources: Resource[];
let statements: Statement[];
let packaged: { readonly name: string; readonly size: number }[];

function ofType(type: string): Resource[] {
  return resources.filter((resource) => resource.Type === type);
}

function statementsFor(action: string): Statement[] {
  return statements.filter((statement) => statement.Action.includes(action));
}

beforeAll(async () => {
  // Prepare: package exactly as a deploy would, offline, with obviously fake credentials.
  packageDir = await mkdtemp(join(tmpdir(), 'fleetplane-package-'));
  await promisify(execFile)(OSLS, ['package', '--package', packageDir, '--param=config=examples/fleetplane.yml'], {
    cwd: REPO_ROOT,
    env: isolatedEnv({
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake-secret-for-offline-tests',
    }),
    timeout: PACKAGE_TIMEOUT_MS,
    maxBuffer: 16 * 1024 * 1024,
  });
  const templateText = await readFile(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8');
  resources = Object.values(templateSchema.parse(JSON.parse(templateText)).Resources);
  const role = roleSchema.parse(ofType('AWS::IAM::Role')[0]?.Properties);
  statements = role.Policies.flatMap((policy) => policy.PolicyDocument.Statement);
  packaged = zipEntries(await readFile(join(packageDir, 'scale.zip')));
}, PACKAGE_TIMEOUT_MS + 10_000);

afterAll(async () => {
  await rm(packageDir, { recursive: true, force: true });
});

describe('osls package with examples/fleetplane.yml', () => {
  it('schedules the scale function every minute on an EventBridge rule', () => {
    // Act
    const rules = ofType('AWS::Events::Rule');

    // Assess
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties?.ScheduleExpression).toBe('rate(1 minute)');
    expect(JSON.stringify(rules[0]?.Properties?.Targets)).toContain('ScaleLambdaFunction');
  });

  it('runs one invocation at a time on Node 22, never retried', () => {
    // Act
    const [fn] = ofType('AWS::Lambda::Function');
    const [invokeConfig] = ofType('AWS::Lambda::EventInvokeConfig');

    // Assess
    expect(fn?.Properties).toMatchObject({
      Handler: 'functions/aws/scale.handler',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: 1,
      Timeout: 60,
    });
    expect(invokeConfig?.Properties).toMatchObject({ MaximumRetryAttempts: 0 });
  });

  it('carries the validated document in the environment', () => {
    // Act
    const [fn] = ofType('AWS::Lambda::Function');

    // Assess
    expect(fn?.Properties?.Environment).toEqual({
      Variables: { FLEETPLANE_CONFIG: expect.stringContaining('"autoScalingGroup":"sourcegraph-executors-codeintel"') },
    });
  });

  it("allows PutMetricData only in the configured namespace and fleetplane's own (the example limits removals)", () => {
    // Act
    const [put, ...more] = statementsFor('cloudwatch:PutMetricData');

    // Assess
    expect(more).toEqual([]);
    expect(put?.Condition).toEqual({
      StringEquals: { 'cloudwatch:namespace': ['sourcegraph-executor', 'fleetplane'] },
    });
  });

  it('allows SetDesiredCapacity on the direct group only, never on *', () => {
    // Act
    const setCapacity = statementsFor('autoscaling:SetDesiredCapacity');
    const text = JSON.stringify(setCapacity);

    // Assess
    expect(setCapacity).toHaveLength(1);
    expect(setCapacity[0]?.Resource).toEqual([
      {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':autoscaling:us-east-1:',
            { Ref: 'AWS::AccountId' },
            ':autoScalingGroup:*:autoScalingGroupName/sourcegraph-executors-codeintel',
          ],
        ],
      },
    ]);
    expect(text).not.toContain('sourcegraph-executors-batches');
  });

  it('allows reading the token secret', () => {
    // Act
    const text = JSON.stringify(statementsFor('secretsmanager:GetSecretValue'));

    // Assess
    expect(text).toContain('secret:fleetplane/sourcegraph-token-??????');
  });

  it('zips the bundled handler, without node_modules or the source map', () => {
    // Assess
    expect(packaged.map((entry) => entry.name)).toEqual(['functions/aws/scale.js']);
    // The same compile options as `npm run build`, the SDK schema plugin included, so the same 1 MiB budget holds.
    expect(packaged[0]?.size).toBeLessThan(1024 * 1024);
  });
});

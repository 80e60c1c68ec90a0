import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
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
let exampleById: Record<string, Resource>;
let resources: Resource[];
let statements: Statement[];
let packaged: { readonly name: string; readonly size: number }[];

function ofType(type: string): Resource[] {
  return resources.filter((resource) => resource.Type === type);
}

function statementsFor(action: string): Statement[] {
  return statements.filter((statement) => statement.Action.includes(action));
}

/** Packages exactly as a deploy would, offline, with obviously fake credentials; the template's resources by id. */
async function oslsPackage(directory: string, params: readonly string[]) {
  await promisify(execFile)(OSLS, ['package', '--package', directory, ...params.map((param) => `--param=${param}`)], {
    cwd: REPO_ROOT,
    env: isolatedEnv({
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake-secret-for-offline-tests',
    }),
    timeout: PACKAGE_TIMEOUT_MS,
    maxBuffer: 16 * 1024 * 1024,
  });
  const templateText = await readFile(join(directory, 'cloudformation-template-update-stack.json'), 'utf8');
  return templateSchema.parse(JSON.parse(templateText)).Resources;
}

const statementsOf = (role: Resource | undefined) =>
  roleSchema.parse(role?.Properties).Policies.flatMap((policy) => policy.PolicyDocument.Statement);

describe('osls package with examples/fleetplane.yml', () => {
  beforeAll(async () => {
    // Prepare
    packageDir = await mkdtemp(join(tmpdir(), 'fleetplane-package-'));
    exampleById = await oslsPackage(packageDir, ['config=examples/fleetplane.yml']);
    resources = Object.values(exampleById);
    statements = statementsOf(exampleById.IamRoleLambdaExecution);
    packaged = zipEntries(await readFile(join(packageDir, 'scale.zip')));
  }, PACKAGE_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await rm(packageDir, { recursive: true, force: true });
  });

  it('deploys the scale and health functions and no rotate function, since the example names no executor secret', () => {
    // Act
    const functions = ofType('AWS::Lambda::Function');

    // Assess
    expect(functions.map((fn) => fn.Properties?.Handler)).toEqual([
      'functions/aws/scale.handler',
      'functions/aws/health.handler',
    ]);
    // The provider's role (the scale function's) and the health function's own
    expect(Object.keys(exampleById).filter((id) => exampleById[id]?.Type === 'AWS::IAM::Role')).toEqual([
      'IamRoleLambdaExecution',
      'HealthRole',
    ]);
    expect(JSON.stringify(resources)).not.toContain('secretsmanager.amazonaws.com');
  });

  it('schedules the scale function every minute on an EventBridge rule', () => {
    // Act
    const rules = ofType('AWS::Events::Rule').filter((rule) =>
      JSON.stringify(rule.Properties?.Targets).includes('ScaleLambdaFunction'),
    );

    // Assess
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties?.ScheduleExpression).toBe('rate(1 minute)');
  });

  it('runs one invocation at a time on Node 22, never retried', () => {
    // Act
    const fn = exampleById.ScaleLambdaFunction;
    const invokeConfig = exampleById.ScaleLambdaEvConf;

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
    const fn = exampleById.ScaleLambdaFunction;

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

describe('osls package with an executor secret and --param rotationSchedule', () => {
  let directory: string;
  let byId: Record<string, Resource>;

  beforeAll(async () => {
    // Prepare: the example plus an executor secret, from a file outside the repository.
    directory = await mkdtemp(join(tmpdir(), 'fleetplane-package-rotate-'));
    const example = parse(await readFile(join(REPO_ROOT, 'examples/fleetplane.yml'), 'utf8'));
    const config = join(directory, 'fleetplane.json');
    await writeFile(
      config,
      JSON.stringify({ ...example, executorSecret: { awsSecretsManager: 'fleetplane/executor-token' } }),
    );
    byId = await oslsPackage(join(directory, 'package'), [`config=${config}`, 'rotationSchedule=rate(30 days)']);
  }, PACKAGE_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("deploys the rotate function: one at a time, never retried, with time to follow the fleets' rolls", () => {
    // Act
    const fn = byId.RotateLambdaFunction;
    const invokeConfig = byId.RotateLambdaEvConf;

    // Assess
    expect(fn?.Properties).toMatchObject({
      Handler: 'functions/aws/rotate.handler',
      Runtime: 'nodejs22.x',
      MemorySize: 256,
      Timeout: 900,
      ReservedConcurrentExecutions: 1,
      Role: { 'Fn::GetAtt': ['RotateRole', 'Arn'] },
      Environment: { Variables: { FLEETPLANE_CONFIG: expect.stringContaining('"executorSecret"') } },
    });
    expect(invokeConfig?.Properties).toMatchObject({ MaximumRetryAttempts: 0 });
  });

  it('lets Secrets Manager invoke it, from this account only', () => {
    // Act
    const permission = byId.RotateSecretsManagerInvokePermission;

    // Assess
    expect(permission).toEqual({
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: { 'Fn::GetAtt': ['RotateLambdaFunction', 'Arn'] },
        Action: 'lambda:InvokeFunction',
        Principal: 'secretsmanager.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
      },
    });
  });

  it('schedules it as asked', () => {
    // Act
    const rule = Object.values(byId).find(
      (resource) =>
        resource.Type === 'AWS::Events::Rule' && JSON.stringify(resource.Properties).includes('RotateLambdaFunction'),
    );

    // Assess
    expect(rule?.Properties?.ScheduleExpression).toBe('rate(30 days)');
  });

  it('grants the executor secret writes to the rotate role alone, never to the scale function', () => {
    // Act
    const rotate = statementsOf(byId.RotateRole);
    const scale = statementsOf(byId.IamRoleLambdaExecution);
    const writes = (statements: readonly Statement[]) =>
      statements.filter((statement) => statement.Action.includes('secretsmanager:PutSecretValue'));

    // Assess
    expect(writes(rotate)).toEqual([
      expect.objectContaining({
        Action: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
      }),
    ]);
    expect(JSON.stringify(writes(rotate))).toContain('secret:fleetplane/executor-token-??????');
    expect(writes(scale)).toEqual([]);
    expect(JSON.stringify(scale)).not.toContain('executor-token');
  });

  it('zips the bundled rotate handler alone, under the 1 MiB budget', async () => {
    // Act
    const entries = zipEntries(await readFile(join(directory, 'package', 'rotate.zip')));

    // Assess
    expect(entries.map((entry) => entry.name)).toEqual(['functions/aws/rotate.js']);
    expect(entries[0]?.size).toBeLessThan(1024 * 1024);
  });
});

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import * as z from 'zod';
import { planDeploy } from '../../deploy/plan.ts';
import { isolatedEnv } from '../../local/child-env.ts';
import { zipEntries } from './zip-entries.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OSLS = join(REPO_ROOT, 'node_modules', '.bin', 'osls');
/** Bundling the SDK and zipping takes a few seconds; a loaded 2-core runner can take many times that. */
const PACKAGE_TIMEOUT_MS = 120_000;
const EXAMPLE_TEXT = await readFile(join(REPO_ROOT, 'examples/fleetplane.yml'), 'utf8');
const GCP_PACKAGES = ['@google-cloud/', 'google-gax', 'google-auth-library'];

const templateSchema = z.object({
  Resources: z.record(
    z.string(),
    z.object({ Type: z.string(), Properties: z.record(z.string(), z.unknown()).optional() }),
  ),
});
const roleSchema = z.object({
  Policies: z.array(z.object({ PolicyDocument: z.object({ Statement: z.array(z.unknown()) }) })),
});
type Resources = z.infer<typeof templateSchema>['Resources'];

/** Packages exactly as a deploy would, offline, with obviously fake credentials; the template's resources by id. */
async function oslsPackage(directory: string, params: readonly string[]): Promise<Resources> {
  await promisify(execFile)(OSLS, ['package', '--package', directory, ...params.map((param) => `--param=${param}`)], {
    cwd: REPO_ROOT,
    env: isolatedEnv({
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake-secret-for-offline-tests',
    }),
    timeout: PACKAGE_TIMEOUT_MS,
    maxBuffer: 16 * 1024 * 1024,
  });
  const text = await readFile(join(directory, 'cloudformation-template-update-stack.json'), 'utf8');
  return templateSchema.parse(JSON.parse(text)).Resources;
}

const statementsOf = (role: Resources[string] | undefined) =>
  roleSchema.parse(role?.Properties).Policies.flatMap((policy) => policy.PolicyDocument.Statement);

/** The text of the zip's only file (stored or deflated), read through its local header (APPNOTE 4.3.7). */
function onlyFileText(zip: Buffer): string {
  const [entry, ...more] = zipEntries(zip);
  if (entry === undefined || more.length > 0 || zip.readUInt32LE(0) !== 0x04034b50) {
    throw new Error('expected a zip holding exactly one file');
  }
  const method = zip.readUInt16LE(8);
  const compressedSize = zip.readUInt32LE(18);
  const start = 30 + zip.readUInt16LE(26) + zip.readUInt16LE(28);
  // A streamed entry keeps its sizes in a trailing data descriptor: inflate to the end; zlib stops at the last block.
  const data = zip.subarray(start, compressedSize === 0 ? undefined : start + compressedSize);
  return (method === 0 ? data : inflateRawSync(data)).toString('utf8');
}

describe('osls package with examples/fleetplane.yml: the health function', () => {
  let directory: string;
  let byId: Resources;

  beforeAll(async () => {
    // Prepare
    directory = await mkdtemp(join(tmpdir(), 'fleetplane-package-health-'));
    byId = await oslsPackage(directory, ['config=examples/fleetplane.yml']);
  }, PACKAGE_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('runs one invocation at a time on Node 22 with its own role and the scale function’s environment', () => {
    // Act
    const fn = byId.HealthLambdaFunction;

    // Assess
    expect(fn?.Properties).toMatchObject({
      Handler: 'functions/aws/health.handler',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 120,
      ReservedConcurrentExecutions: 1,
      Role: { 'Fn::GetAtt': ['HealthRole', 'Arn'] },
    });
    expect(fn?.Properties?.Environment).toEqual(byId.ScaleLambdaFunction?.Properties?.Environment);
    expect(byId.HealthLambdaEvConf?.Properties).toMatchObject({
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('checks every 5 minutes on an EventBridge rule', () => {
    // Act
    const rules = Object.values(byId).filter(
      (resource) =>
        resource.Type === 'AWS::Events::Rule' && JSON.stringify(resource.Properties).includes('HealthLambdaFunction'),
    );

    // Assess
    expect(rules.map((rule) => rule.Properties?.ScheduleExpression)).toEqual(['rate(5 minutes)']);
  });

  it('serves the webhook on a function URL with AWS_IAM auth, no CORS and no public permission', () => {
    // Act
    const url = byId.HealthLambdaFunctionUrl;
    const publicPermissions = Object.values(byId).filter(
      (resource) => resource.Type === 'AWS::Lambda::Permission' && resource.Properties?.Principal === '*',
    );

    // Assess
    expect(url).toEqual({
      Type: 'AWS::Lambda::Url',
      Properties: { AuthType: 'AWS_IAM', TargetFunctionArn: { 'Fn::GetAtt': ['HealthLambdaFunction', 'Arn'] } },
    });
    expect(publicPermissions).toEqual([]);
  });

  it('gives its role exactly the planned statements plus its own log group', () => {
    // Prepare
    const plan = planDeploy({
      region: 'us-east-1',
      timeoutSeconds: 60,
      config: { text: EXAMPLE_TEXT, source: 'file:examples/fleetplane.yml' },
      shellEnv: {},
    });

    // Act
    const statements = statementsOf(byId.HealthRole);

    // Assess
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': ['HealthLogGroup', 'Arn'] },
      },
      ...(plan.health?.iamStatements ?? []),
    ]);
    expect(JSON.stringify(statements)).toContain('"autoscaling:SetInstanceHealth"');
    // Its counts are embedded metric format in its log: nothing in CloudWatch's API.
    expect(JSON.stringify(statements)).not.toContain('cloudwatch:');
    // The scale function's role gains nothing from it.
    expect(JSON.stringify(statementsOf(byId.IamRoleLambdaExecution))).not.toContain('SetInstanceHealth');
  });

  it('zips the bundled health handler alone, under the 1 MiB budget, with nothing from Google Cloud', async () => {
    // Act
    const zip = await readFile(join(directory, 'health.zip'));
    const text = onlyFileText(zip);

    // Assess
    expect(zipEntries(zip).map((entry) => entry.name)).toEqual(['functions/aws/health.js']);
    expect(Buffer.byteLength(text)).toBeLessThan(1024 * 1024);
    expect(text).toContain('@aws-sdk/client-auto-scaling');
    for (const gcp of GCP_PACKAGES) {
      expect(text).not.toContain(gcp);
    }
  });
});

describe('osls package with an HMAC webhook, an executor secret and --param healthSchedule', () => {
  let directory: string;
  let byId: Resources;

  beforeAll(async () => {
    // Prepare: the example plus the webhook key and an executor secret, from a file outside the repository.
    directory = await mkdtemp(join(tmpdir(), 'fleetplane-package-health-hmac-'));
    const config = join(directory, 'fleetplane.json');
    await writeFile(
      config,
      JSON.stringify({
        ...parse(EXAMPLE_TEXT),
        executorSecret: { awsSecretsManager: 'fleetplane/executor-token' },
        webhook: { auth: 'hmac', secret: { awsSecretsManager: 'fleetplane/webhook-hmac' } },
      }),
    );
    byId = await oslsPackage(join(directory, 'package'), [`config=${config}`, 'healthSchedule=rate(10 minutes)']);
  }, PACKAGE_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('serves a public URL (AuthType NONE, the function checks signatures), without CORS', () => {
    // Act
    const url = byId.HealthLambdaFunctionUrl;
    const permissions = Object.values(byId)
      .filter((resource) => resource.Type === 'AWS::Lambda::Permission' && resource.Properties?.Principal === '*')
      .map((resource) => resource.Properties);

    // Assess
    expect(url?.Properties).toEqual({
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': ['HealthLambdaFunction', 'Arn'] },
    });
    // Anyone may call the URL, and only through it.
    expect(permissions).toEqual([
      expect.objectContaining({ Action: 'lambda:InvokeFunctionUrl', FunctionUrlAuthType: 'NONE' }),
      expect.objectContaining({ Action: 'lambda:InvokeFunction', InvokedViaFunctionUrl: true }),
    ]);
  });

  it('schedules the check as asked', () => {
    // Act
    const rule = Object.values(byId).find(
      (resource) =>
        resource.Type === 'AWS::Events::Rule' && JSON.stringify(resource.Properties).includes('HealthLambdaFunction'),
    );

    // Assess
    expect(rule?.Properties?.ScheduleExpression).toBe('rate(10 minutes)');
  });

  it('lets the health role read the webhook key and rotate as the rotate role does; the scale role neither', () => {
    // Act
    const health = JSON.stringify(statementsOf(byId.HealthRole));
    const rotate = statementsOf(byId.RotateRole).slice(1);
    const scale = JSON.stringify(statementsOf(byId.IamRoleLambdaExecution));

    // Assess
    expect(health).toContain('secret:fleetplane/webhook-hmac-??????');
    for (const statement of rotate) {
      expect(statementsOf(byId.HealthRole)).toContainEqual(statement);
    }
    expect(scale).not.toContain('webhook-hmac');
    expect(scale).not.toContain('executor-token');
  });
});

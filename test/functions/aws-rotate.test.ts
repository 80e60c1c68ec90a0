import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const TOKEN = 'sgp_smoke_0123456789abcdef0123456789abcdef';
const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fleetplane/executor-token-AbC123';
const secretsManager = mockClient(SecretsManagerClient);
let logged: string[];

const context = {
  awsRequestId: 'req-1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fleetplane-prod-rotate',
  getRemainingTimeInMillis: () => 120_000,
} as Context;

function configWith(extra: object): string {
  return JSON.stringify({
    sourcegraph: { endpoint: 'https://sourcegraph.example.com', token: TOKEN },
    metrics: { cloudwatch: { namespace: 'sourcegraph-executor' } },
    fleets: [{ name: 'codeintel', queues: ['codeintel'], mode: 'metrics', jobsPerInstance: 4, maxInstances: 5 }],
    ...extra,
  });
}

async function importHandler(config: string) {
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('FLEETPLANE_CONFIG', config);
  vi.resetModules();
  const module = await import('../../functions/aws/rotate.ts');
  return module.handler;
}

beforeEach(() => {
  secretsManager.reset();
  logged = [];
  // Powertools writes info to stdout, warnings and errors to stderr.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk) => {
      logged.push(String(chunk));
      return true;
    });
  }
});

describe('AWS rotate function', () => {
  it('refuses an event it does not know, saying what it accepts, and calls nothing', async () => {
    // Prepare
    const handler = await importHandler(
      configWith({ executorSecret: { awsSecretsManager: 'fleetplane/executor-token' } }),
    );

    // Act
    const run = handler({ once: true }, context);

    // Assess
    await expect(run).rejects.toThrow(/unknown keys "once": expected \{\} or \{"rotation": "<id>"\}/);
    expect(secretsManager.calls()).toHaveLength(0);
    expect(logged.join('')).toContain('invocation failed');
  });

  it('refuses a rotation step for another secret before touching anything', async () => {
    // Prepare
    const handler = await importHandler(configWith({ executorSecret: { awsSecretsManager: 'fleetplane/other' } }));
    const event = { Step: 'createSecret', SecretId: ARN, ClientRequestToken: '4c1f2a6e-8a1b-4d0e-9f3a-0b1c2d3e4f50' };

    // Act
    const run = handler(event, context);

    // Assess
    await expect(run).rejects.toThrow(/only the configured executor secret fleetplane\/other; nothing was done/);
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it('fails with a clear error when the config names no executor secret, never logging the token', async () => {
    // Prepare
    const handler = await importHandler(configWith({}));

    // Act
    const run = handler({}, context);

    // Assess
    await expect(run).rejects.toThrow(/executorSecret\.awsSecretsManager: name the Secrets Manager secret/);
    expect(secretsManager.calls()).toHaveLength(0);
    expect(logged.join('')).not.toContain(TOKEN);
  });
});

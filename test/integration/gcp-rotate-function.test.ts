import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_EXECUTOR_TOKEN, LOCAL_SOURCEGRAPH_TOKEN } from '../../local/sourcegraph/index.ts';
import { LOCAL_GCP_PROJECT, type LocalStack, startLocalStack } from '../../local/stack.ts';
import { type FrameworkServer, startFunctionsFramework, useBuiltGcpPackage } from '../support/functions-framework.ts';

/**
 * The built GCP rotate bundle served by the real functions-framework CLI (as Cloud Functions runs it), rotating the
 * executor secret in the Secret Manager emulator and the Sourcegraph emulator's site configuration.
 */

const SECRET_ID = 'executor-token';
const SECRET = `projects/${LOCAL_GCP_PROJECT}/secrets/${SECRET_ID}`;
const gcpPackage = useBuiltGcpPackage();
let stack: LocalStack;
let server: FrameworkServer | undefined;
/** What the server printed so far. */
const serverLog = () => server?.log() ?? '';

beforeEach(async () => {
  stack = await startLocalStack();
  stack.secretManager.createSecret(LOCAL_GCP_PROJECT, SECRET_ID, LOCAL_EXECUTOR_TOKEN);
});

afterEach(async () => {
  server?.stop();
  server = undefined;
  await stack.close();
});

/** Asserts the server logged a line matching `pattern`, waiting for it to come through the pipe. */
async function logged(pattern: RegExp): Promise<void> {
  await server?.waitForLog(pattern);
  expect(serverLog()).toMatch(pattern);
}

/** Starts `functions-framework --target=<target>` on the built rotate.js and waits until it answers. */
async function serve(target: 'rotate' | 'rotateOnSecretEvent'): Promise<string> {
  const signature = target === 'rotate' ? 'http' : 'cloudevent';
  server = await startFunctionsFramework({
    source: join(gcpPackage(), 'rotate.js'),
    target: target,
    signature: signature,
    env: {
      FLEETPLANE_CONFIG: JSON.stringify({ ...stack.config(), executorSecret: { gcpSecretManager: SECRET } }),
      SRC_ACCESS_TOKEN: LOCAL_SOURCEGRAPH_TOKEN,
      FLEETPLANE_GCP_SECRET_MANAGER_ENDPOINT: stack.secretManager.emulator.url,
      FLEETPLANE_TIMEOUT_SECONDS: '20',
    },
  });
  return `${server.url}/`;
}

/** A Pub/Sub CloudEvent (binary mode) as Eventarc delivers Secret Manager's notification. */
const secretEvent = (url: string, eventType: string, name: string) =>
  fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-id': randomUUID(),
      'ce-specversion': '1.0',
      'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
      'ce-source': `//pubsub.googleapis.com/projects/${LOCAL_GCP_PROJECT}/topics/executor-token-rotation`,
    },
    body: JSON.stringify({
      message: {
        attributes: { eventType, secretId: name },
        data: Buffer.from(JSON.stringify({ name, rotation: { rotationPeriod: '2592000s' } })).toString('base64'),
        messageId: '1',
      },
      subscription: `projects/${LOCAL_GCP_PROJECT}/subscriptions/eventarc`,
    }),
  });

const latest = () => stack.secretManager.versions(LOCAL_GCP_PROJECT, SECRET_ID).at(-1)?.value;

describe('the built GCP rotate function in the functions-framework server', () => {
  it('rotates on POST: the new token is the latest version and Sourcegraph takes it', async () => {
    // Prepare
    const url = await serve('rotate');

    // Act
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const text = await response.text();

    // Assess
    expect(response.status, serverLog()).toBe(200);
    const report: unknown = JSON.parse(text);
    expect(report).toMatchObject({
      rotation: expect.any(String),
      steps: ['createSecret', 'setSecret', 'testSecret', 'finishSecret'].map((step) => ({ step, outcome: 'done' })),
    });
    const token = stack.sourcegraph.executorToken();
    expect(token).not.toBe(LOCAL_EXECUTOR_TOKEN);
    expect(latest()).toBe(token);
    expect(text).not.toContain(token);
    expect(serverLog()).not.toContain(token);
    expect(serverLog()).not.toContain(LOCAL_SOURCEGRAPH_TOKEN);
  });

  it('answers GET with 405 and rotates nothing', async () => {
    // Prepare
    const url = await serve('rotate');

    // Act
    const response = await fetch(url);

    // Assess
    expect(response.status).toBe(405);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(stack.sourcegraph.executorToken()).toBe(LOCAL_EXECUTOR_TOKEN);
  });

  it('rotates on a SECRET_ROTATE CloudEvent for the executor secret', async () => {
    // Prepare
    const url = await serve('rotateOnSecretEvent');

    // Act
    const response = await secretEvent(url, 'SECRET_ROTATE', SECRET);

    // Assess
    expect(response.status, serverLog()).toBeLessThan(300);
    const token = stack.sourcegraph.executorToken();
    expect(token).not.toBe(LOCAL_EXECUTOR_TOKEN);
    expect(latest()).toBe(token);
    expect(serverLog()).not.toContain(token);
    expect(serverLog()).not.toContain(LOCAL_SOURCEGRAPH_TOKEN);
  });

  it('acknowledges other event types and refuses another secret, rotating nothing', async () => {
    // Prepare
    const url = await serve('rotateOnSecretEvent');

    // Act
    const ignored = await secretEvent(url, 'SECRET_VERSION_ADD', SECRET);
    const refused = await secretEvent(url, 'SECRET_ROTATE', `projects/${LOCAL_GCP_PROJECT}/secrets/other`);

    // Assess
    expect(ignored.status, serverLog()).toBeLessThan(300);
    expect(refused.status, serverLog()).toBeLessThan(300);
    // The server's log lines reach this process through a pipe, after the answers may have.
    await logged(/secret event ignored/);
    await logged(/rotates only the configured executor secret/);
    expect(stack.sourcegraph.executorToken()).toBe(LOCAL_EXECUTOR_TOKEN);
    expect(stack.secretManager.versions(LOCAL_GCP_PROJECT, SECRET_ID)).toHaveLength(1);
  });
});

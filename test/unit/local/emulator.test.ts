import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { type Emulator, type EmulatorRequest, startEmulator } from '../../../local/http/emulator.ts';

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function start(
  handle: (request: EmulatorRequest) => { status: number; body?: string } = () => ({ status: 200, body: 'ok' }),
) {
  emulator = await startEmulator({
    name: 'test',
    handle,
    operationOf: (request) => request.query.get('Action') ?? undefined,
    faults: {
      serverError: (status) => ({ status, body: 'server error' }),
      throttled: () => ({ status: 429, body: 'slow down' }),
    },
    random: () => 0.5,
  });
  return emulator;
}

describe('startEmulator', () => {
  it('listens on loopback only and records what it answered', async () => {
    // Prepare
    const server = await start();

    // Act
    const response = await fetch(`${server.url}/x?Action=Describe`);

    // Assess
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await response.text()).toBe('ok');
    expect(server.requests).toEqual([
      expect.objectContaining({ method: 'GET', path: '/x', operation: 'Describe', status: 200 }),
    ]);
  });

  it('hands gzip bodies to the handler decoded, and refuses broken gzip', async () => {
    // Prepare
    const server = await start((request) => ({ status: 200, body: request.text }));

    // Act
    const decoded = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-encoding': 'gzip' },
      body: gzipSync('hello'),
    });
    const broken = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-encoding': 'gzip' },
      body: 'not gzip',
    });

    // Assess
    expect(await decoded.text()).toBe('hello');
    expect(broken.status).toBe(400);
  });

  it('applies a fault to the matching operation for the given number of requests', async () => {
    // Prepare
    const server = await start();
    server.injectFault({ kind: 'error', status: 503, operation: 'Put', times: 2 });

    // Act
    const statuses = [];
    for (const action of ['Describe', 'Put', 'Put', 'Put']) {
      statuses.push((await fetch(`${server.url}/?Action=${action}`)).status);
    }

    // Assess
    expect(statuses).toEqual([200, 503, 503, 200]);
    expect(server.requests.map((request) => request.fault)).toEqual([undefined, 'error', 'error', undefined]);
  });

  it('throttles, answers garbage, delays, and applies a fraction of the time', async () => {
    // Prepare
    const server = await start();

    // Act
    server.injectFault({ kind: 'throttle', times: 1 });
    const throttled = await fetch(server.url);
    server.injectFault({ kind: 'garbage', times: 1 });
    const garbage = await fetch(server.url);
    server.injectFault({ kind: 'latency', latencyMs: 150, times: 1 });
    const started = Date.now();
    await fetch(server.url);
    const delayedMs = Date.now() - started;
    server.injectFault({ kind: 'error', fraction: 0.4 });
    const skipped = await fetch(server.url);

    // Assess
    expect(throttled.status).toBe(429);
    expect(await garbage.text()).toMatch(/^<html>/);
    expect(delayedMs).toBeGreaterThanOrEqual(140);
    expect(skipped.status).toBe(200);
  });

  it('never answers a timed-out request, so the client gives up', async () => {
    // Prepare
    const server = await start();
    server.injectFault({ kind: 'timeout', times: 1 });

    // Act
    const request = fetch(server.url, { signal: AbortSignal.timeout(100) });

    // Assess
    await expect(request).rejects.toThrow(/timeout|aborted/i);
    expect((await fetch(server.url)).status).toBe(200);
  });

  it('reports a handler bug as an emulator bug, not as the service failing', async () => {
    // Prepare
    const server = await start(() => {
      throw new Error('oops');
    });

    // Act
    const response = await fetch(server.url);

    // Assess
    expect(response.status).toBe(500);
    expect(await response.text()).toMatch(/test emulator bug: Error: oops/);
  });
});

describe('GCP emulators and page tokens', () => {
  it('refuse a page token they never issued, as the real APIs do, instead of answering an empty page', async () => {
    // Prepare
    const { startMonitoringEmulator, startSecretManagerEmulator } = await import('../../../local/gcp/index.ts');
    const monitoring = await startMonitoringEmulator();
    const secrets = await startSecretManagerEmulator();
    secrets.createSecret('p1', 's1', 'value');

    // Act
    const series = await fetch(
      `${monitoring.emulator.url}/v3/projects/p1/timeSeries?filter=${encodeURIComponent('metric.type = "custom.googleapis.com/x"')}&interval.endTime=2026-01-01T00:00:00Z&pageToken=garbage`,
    );
    const versions = await fetch(`${secrets.emulator.url}/v1/projects/p1/secrets/s1/versions?pageToken=garbage`);
    await Promise.all([monitoring.emulator.close(), secrets.emulator.close()]);

    // Assess
    expect(series.status).toBe(400);
    expect(versions.status).toBe(400);
    expect(await versions.json()).toMatchObject({ error: { status: 'INVALID_ARGUMENT' } });
  });
});

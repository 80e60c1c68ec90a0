import { PassThroughClient } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/config/index.ts';
import { SecretValue } from '../../../shared/config/secret.ts';
import { credentialOptions, endpointOverride } from '../../../shared/gcp/client-options.ts';

describe('endpointOverride', () => {
  it('points a service at a local emulator over plain HTTP with no credentials', () => {
    // Act
    const override = endpointOverride({ FLEETPLANE_GCP_MONITORING_ENDPOINT: 'http://127.0.0.1:4317' }, 'monitoring');

    // Assess
    expect(override).toEqual({
      protocol: 'http',
      apiEndpoint: '127.0.0.1',
      port: 4317,
      authClient: expect.any(PassThroughClient),
    });
  });

  it('prefers the per-service variable, falls back to the shared one, and keeps credentials for https', () => {
    // Prepare
    const env = {
      FLEETPLANE_GCP_API_ENDPOINT: 'https://private.googleapis.example',
      FLEETPLANE_GCP_COMPUTE_ENDPOINT: 'http://127.0.0.1:9000',
    };

    // Act
    const compute = endpointOverride(env, 'compute');
    const secrets = endpointOverride(env, 'secret-manager');
    const none = endpointOverride({}, 'monitoring');

    // Assess
    expect(compute).toMatchObject({ protocol: 'http', port: 9000 });
    expect(secrets).toEqual({ apiEndpoint: 'private.googleapis.example', port: 443 });
    expect(none).toBeUndefined();
  });

  it.each(['127.0.0.1:9000', 'ftp://127.0.0.1', 'http://127.0.0.1:9000/v3'])('refuses %s', (value) => {
    // Act
    const override = () => endpointOverride({ FLEETPLANE_GCP_API_ENDPOINT: value }, 'compute');

    // Assess
    expect(override).toThrow(ConfigError);
  });
});

describe('credentialOptions', () => {
  it('passes a key file by path, key content as parsed fields, and nothing for ADC', () => {
    // Prepare
    const secrets = new Set<string>();
    const key = {
      type: 'service_account',
      client_email: 'm@p.iam.gserviceaccount.com',
      private_key: 'KEY',
      extra: { a: 1 },
    };

    // Act
    const file = credentialOptions({ kind: 'file', path: '/keys/metric.json' }, secrets);
    const content = credentialOptions({ kind: 'content', json: new SecretValue(JSON.stringify(key)) }, secrets);
    const adc = credentialOptions(undefined, secrets);

    // Assess
    expect(file).toEqual({ keyFilename: '/keys/metric.json' });
    expect(content).toEqual({
      credentials: { type: 'service_account', client_email: 'm@p.iam.gserviceaccount.com', private_key: 'KEY' },
    });
    expect(adc).toEqual({});
    expect([...secrets]).toEqual(['KEY']);
  });
});

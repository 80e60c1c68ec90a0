import { type JWTInput, PassThroughClient } from 'google-auth-library';
import { ConfigError, type Env, type GcpCredentials } from '../config/index.ts';
import { isRecord } from '../domain/guards.ts';

/**
 * Constructor options for the `@google-cloud/*` clients. Every client speaks REST (`fallback: true`): HTTP/1.1 JSON
 * needs no gRPC native stack in the bundle, starts faster in a cold function, and is what the local emulators speak.
 */

export type GcpService = 'monitoring' | 'compute' | 'secret-manager';

/** Per-service endpoint overrides, then one for all: how the local stack points the function at its emulators. */
const ENDPOINT_VARIABLES: Readonly<Record<GcpService, string>> = {
  monitoring: 'FLEETPLANE_GCP_MONITORING_ENDPOINT',
  compute: 'FLEETPLANE_GCP_COMPUTE_ENDPOINT',
  'secret-manager': 'FLEETPLANE_GCP_SECRET_MANAGER_ENDPOINT',
};
const ALL_ENDPOINTS_VARIABLE = 'FLEETPLANE_GCP_API_ENDPOINT';

type Override =
  | {
      readonly protocol: 'http';
      readonly apiEndpoint: string;
      readonly port: number;
      readonly authClient: PassThroughClient;
    }
  | { readonly apiEndpoint: string; readonly port: number };

/**
 * `http://host:port` is a local emulator: plain HTTP and a `PassThroughClient`, so no credentials are looked up and
 * no token leaves the process. `https://host[:port]` is a real alternative endpoint (e.g. Private Service Connect)
 * and keeps the usual credentials.
 */
export function endpointOverride(env: Env, service: GcpService): Override | undefined {
  const variable = env[ENDPOINT_VARIABLES[service]]?.trim() ? ENDPOINT_VARIABLES[service] : ALL_ENDPOINTS_VARIABLE;
  const value = env[variable]?.trim();
  if (!value) {
    return undefined;
  }
  const url = URL.parse(value);
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname.length > 1) {
    throw new ConfigError('environment', [
      `${variable}: expected http://host:port or https://host[:port], got ${value}`,
    ]);
  }
  const apiEndpoint = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (url.protocol === 'https:') {
    return { apiEndpoint, port: Number(url.port || 443) };
  }
  return { protocol: 'http', apiEndpoint, port: Number(url.port || 80), authClient: new PassThroughClient() };
}

/**
 * The worker's metric credentials: a key file (`EXECUTOR_METRIC_GOOGLE_APPLICATION_CREDENTIALS_FILE`), the key's
 * JSON itself (`…_FILE_CONTENT`), or nothing for Application Default Credentials (the function's service account).
 * `secrets` receives the key material for log scrubbing.
 */
export function credentialOptions(credentials: GcpCredentials | undefined, secrets: Set<string>) {
  if (credentials === undefined) {
    return {};
  }
  if (credentials.kind === 'file') {
    return { keyFilename: credentials.path };
  }
  return { credentials: parseKey(credentials.json.reveal(), secrets) };
}

const KEY_FIELDS = [
  'type',
  'client_email',
  'private_key',
  'private_key_id',
  'project_id',
  'client_id',
  'client_secret',
  'refresh_token',
  'quota_project_id',
  'universe_domain',
] as const;
const SECRET_FIELDS: ReadonlySet<string> = new Set(['private_key', 'private_key_id', 'client_secret', 'refresh_token']);

function parseKey(text: string, secrets: Set<string>): JWTInput {
  const source = 'metrics.cloudMonitoring.credentials';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The SyntaxError is dropped on purpose: V8 quotes the offending text, which here is the key itself.
    throw new ConfigError(source, [`${source}: the credentials content is not valid JSON`]);
  }
  if (!isRecord(parsed)) {
    throw new ConfigError(source, [`${source}: the credentials content is not a JSON object`]);
  }
  const key: JWTInput = {};
  for (const field of KEY_FIELDS) {
    const value = parsed[field];
    if (typeof value === 'string') {
      key[field] = value;
      if (SECRET_FIELDS.has(field)) {
        secrets.add(value);
      }
    }
  }
  const usable = (key.client_email && key.private_key) || (key.client_id && key.client_secret && key.refresh_token);
  if (!usable) {
    // External-account (workload identity) JSON has nested fields: give it as a file instead.
    throw new ConfigError(source, [
      `${source}: expected a service account key (client_email, private_key) or authorized-user JSON; pass other credential types as a file`,
    ]);
  }
  return key;
}

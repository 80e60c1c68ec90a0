import { PassThroughClient } from 'google-auth-library';
import type { Emulator } from '../http/emulator.ts';

export {
  type ComputeEmulator,
  type ComputeEmulatorOptions,
  type ComputeGroup,
  type GroupSpec,
  startComputeEmulator,
} from './compute.ts';
export { type MonitoringEmulator, type MonitoringEmulatorOptions, startMonitoringEmulator } from './monitoring.ts';
export {
  type SecretManagerEmulator,
  type SecretManagerEmulatorOptions,
  startSecretManagerEmulator,
} from './secret-manager.ts';

/**
 * Constructor options that point an official `@google-cloud/*` client at an emulator: REST over HTTP/1.1
 * (`fallback: true`) to loopback, with a `PassThroughClient` so no credentials are looked up and no
 * `Authorization` header is sent. Works for `MetricServiceClient`, the Compute clients and
 * `SecretManagerServiceClient` alike.
 */
export function gcpClientOptions(emulator: Pick<Emulator, 'port'>) {
  return {
    fallback: true,
    protocol: 'http',
    apiEndpoint: '127.0.0.1',
    port: emulator.port,
    authClient: new PassThroughClient(),
  } as const;
}

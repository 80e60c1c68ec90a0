export { ConfigError } from './errors.ts';
export {
  type ConfigSource,
  type LoadConfigIo,
  loadConfig,
  parseConfigText,
  resolveConfigSource,
} from './load.ts';
export { type SecretSource, SecretValue } from './secret.ts';
export type {
  AwsStaticCredentials,
  CloudMonitoringSettings,
  CloudWatchSettings,
  Env,
  FleetplaneConfig,
  GcpCredentials,
  SourcegraphSettings,
} from './types.ts';
export { parseWorkerEnv } from './worker-env.ts';

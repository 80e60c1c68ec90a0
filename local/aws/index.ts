/** Loopback emulators of the AWS services fleetplane calls, for the local stack and integration tests. */
export {
  type AutoScalingEmulator,
  type AutoScalingEmulatorOptions,
  type AutoScalingGroupView,
  type AutoScalingInstanceView,
  startAutoScalingEmulator,
} from './auto-scaling.ts';
export type { GroupSpec, HoldCode, PolicyType, ScalingPolicySpec, SeededInstance } from './auto-scaling-spec.ts';
export { type AwsClientConfig, awsClientConfig, awsEndpointEnv, DUMMY_CREDENTIALS } from './client-config.ts';
export { type CloudWatchEmulator, type CloudWatchEmulatorOptions, startCloudWatchEmulator } from './cloudwatch.ts';
export type { StoredDatum, StoredDimension } from './cloudwatch-metrics.ts';
export {
  type Ec2Emulator,
  type Ec2EmulatorOptions,
  type Ec2InstanceSpec,
  type Ec2InstanceState,
  startEc2Emulator,
} from './ec2.ts';
export {
  type SecretsManagerEmulator,
  type SecretsManagerEmulatorOptions,
  type SecretVersionView,
  startSecretsManagerEmulator,
} from './secrets-manager.ts';

import type { Emulator } from '../http/emulator.ts';

/** Any non-empty keys do: the emulators read the region from the signature but never check it. */
export const DUMMY_CREDENTIALS = {
  accessKeyId: 'AKIAFLEETPLANELOCAL0',
  secretAccessKey: 'local-emulator-secret',
} as const;

export interface AwsClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/**
 * SDK client options for an emulator: spread into `new AutoScalingClient({ ...awsClientConfig(asg.emulator) })`. The
 * region is signed into each request, so one Auto Scaling emulator serves clients of several regions.
 */
export function awsClientConfig(emulator: Pick<Emulator, 'url'>, region = 'us-east-1'): AwsClientConfig {
  return { endpoint: emulator.url, region, credentials: DUMMY_CREDENTIALS };
}

/** The same, as the environment variables the SDK reads with no code change (`AWS_ENDPOINT_URL_<SERVICE>`). */
export function awsEndpointEnv(endpoints: {
  readonly autoScaling?: Pick<Emulator, 'url'>;
  readonly cloudWatch?: Pick<Emulator, 'url'>;
  readonly secretsManager?: Pick<Emulator, 'url'>;
  readonly ec2?: Pick<Emulator, 'url'>;
}): Record<string, string> {
  const env: Record<string, string> = {
    AWS_ACCESS_KEY_ID: DUMMY_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DUMMY_CREDENTIALS.secretAccessKey,
  };
  if (endpoints.autoScaling) env.AWS_ENDPOINT_URL_AUTO_SCALING = endpoints.autoScaling.url;
  if (endpoints.cloudWatch) env.AWS_ENDPOINT_URL_CLOUDWATCH = endpoints.cloudWatch.url;
  if (endpoints.secretsManager) env.AWS_ENDPOINT_URL_SECRETS_MANAGER = endpoints.secretsManager.url;
  if (endpoints.ec2) env.AWS_ENDPOINT_URL_EC2 = endpoints.ec2.url;
  return env;
}

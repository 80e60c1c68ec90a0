import { type Clock, systemClock } from '../../shared/ports/clock.ts';
import { type JsonService, startJsonEmulator } from './json-protocol.ts';
import { createSecretActions, stagesOf } from './secrets-actions.ts';
import { AWSCURRENT, createSecretStore } from './secrets-store.ts';

/** Secrets Manager as @aws-sdk/client-secrets-manager speaks it: awsJson1_1, errors as `{"__type", "Message"}`. */
const SERVICE: JsonService = {
  contentType: 'application/x-amz-json-1.1',
  targetPrefix: 'secretsmanager',
  queryCompatible: false,
  messageKey: 'Message',
  internalErrorCode: 'InternalServiceError',
  shapeNames: { MissingAuthenticationToken: 'MissingAuthenticationTokenException' },
};

export interface SecretsManagerEmulatorOptions {
  readonly clock?: Clock;
  /** The region in ARNs. Default `us-east-1`. */
  readonly region?: string;
  readonly port?: number;
}

export interface SecretVersionView {
  readonly id: string;
  readonly stages: readonly string[];
  readonly createdAt: number;
  readonly secretString: string | undefined;
}

export type SecretsManagerEmulator = Awaited<ReturnType<typeof startSecretsManagerEmulator>>;

export async function startSecretsManagerEmulator(options: SecretsManagerEmulatorOptions = {}) {
  const clock = options.clock ?? systemClock;
  const store = createSecretStore({ region: options.region ?? 'us-east-1', clock });

  const actions = createSecretActions(store, clock);
  const emulator = await startJsonEmulator(SERVICE, {
    name: 'secrets-manager',
    actions,
    throttleCode: 'ThrottlingException',
    clock,
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  return {
    emulator,
    /** A secret with one AWSCURRENT version holding `value`. */
    createSecret(name: string, value: string): { readonly arn: string; readonly versionId: string } {
      const secret = store.create(name, undefined);
      const version = store.addVersion(secret, store.newVersionId(), { string: value }, [AWSCURRENT]);
      return { arn: secret.arn, versionId: version.id };
    },
    /** Every version still held, labelled or not, oldest first. */
    versions(name: string): readonly SecretVersionView[] {
      return [...store.find(name).versions.values()].map((version) => ({
        id: version.id,
        stages: stagesOf(version),
        createdAt: version.createdAt,
        secretString: version.value.string,
      }));
    },
    /** What DescribeSecret reports about rotation (the emulator does not invoke rotation functions itself). */
    setRotation(name: string, rotation: { readonly enabled: boolean; readonly lambdaArn?: string }): void {
      const secret = store.find(name);
      secret.rotationEnabled = rotation.enabled;
      secret.rotationLambdaArn = rotation.lambdaArn;
    },
    /** What a VM reads at boot now: the AWSCURRENT string of `secretId` (name or ARN); undefined when there is none. */
    currentValue: (secretId: string): string | undefined => store.currentStringAt(secretId, clock()),
    /** The same at a moment `at`, a past one too: what a VM launched then read. */
    currentValueAt: (secretId: string, at: number): string | undefined => store.currentStringAt(secretId, at),
    clearSecrets: () => store.clear(),
    close: () => emulator.close(),
  };
}

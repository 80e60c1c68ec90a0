import { randomInt, randomUUID } from 'node:crypto';
import { AwsServiceError } from './errors.ts';

/**
 * Secrets and their versions with Secrets Manager's staging-label rules: a label is on at most one version; moving
 * AWSCURRENT leaves AWSPREVIOUS on the version that had it; a version, once written, never changes.
 */

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';

export interface SecretValue {
  readonly string?: string;
  readonly binary?: Buffer;
}

export interface SecretVersion {
  readonly id: string;
  readonly value: SecretValue;
  readonly stages: Set<string>;
  readonly createdAt: number;
}

export interface Secret {
  readonly name: string;
  readonly arn: string;
  readonly description: string | undefined;
  readonly createdAt: number;
  lastChangedAt: number;
  lastAccessedAt: number | undefined;
  rotationEnabled: boolean;
  rotationLambdaArn: string | undefined;
  /** In creation order. */
  readonly versions: Map<string, SecretVersion>;
}

const SUFFIX_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const notFound = (detail = '') =>
  new AwsServiceError('ResourceNotFoundException', `Secrets Manager can't find the specified secret${detail}.`);

export function sameValue(a: SecretValue, b: SecretValue): boolean {
  return a.string === b.string && (a.binary?.equals(b.binary ?? Buffer.alloc(0)) ?? b.binary === undefined);
}

export function createSecretStore(options: { readonly region: string; readonly clock: () => number }) {
  const secrets = new Map<string, Secret>();
  /**
   * Each secret's AWSCURRENT string over time (undefined: a binary secret), so a VM launched at a moment the world
   * replays reads what the secret held then, not what it holds by the time the world looks.
   */
  const currentChanges = new Map<Secret, { readonly at: number; readonly value: string | undefined }[]>();

  const lookup = (secretId: string): Secret | undefined =>
    secrets.get(secretId) ??
    [...secrets.values()].find((candidate) => candidate.arn === secretId || candidate.arn.slice(0, -7) === secretId);

  /** By name, full ARN, or ARN without the random suffix, as GetSecretValue and friends accept. */
  function find(secretId: string): Secret {
    const secret = lookup(secretId);
    if (secret === undefined) {
      throw notFound();
    }
    return secret;
  }

  function version(secret: Secret, id: string): SecretVersion {
    const found = secret.versions.get(id);
    if (found === undefined) {
      throw notFound(` value for VersionId: ${id}`);
    }
    return found;
  }

  const holderOf = (secret: Secret, stage: string) =>
    [...secret.versions.values()].find((candidate) => candidate.stages.has(stage));

  /** Puts `stage` on `target`, taking it off whichever version had it; AWSCURRENT's old holder becomes AWSPREVIOUS. */
  function attach(secret: Secret, target: SecretVersion, stage: string): void {
    const holder = holderOf(secret, stage);
    if (holder === target) {
      return;
    }
    holder?.stages.delete(stage);
    target.stages.add(stage);
    if (stage === AWSCURRENT) {
      noteCurrent(secret);
      if (holder !== undefined) {
        attach(secret, holder, AWSPREVIOUS);
      }
    }
    secret.lastChangedAt = options.clock();
  }

  function noteCurrent(secret: Secret): void {
    const value = holderOf(secret, AWSCURRENT)?.value.string;
    const changes = currentChanges.get(secret) ?? [];
    if (changes.length === 0 || changes.at(-1)?.value !== value) {
      changes.push({ at: options.clock(), value });
      currentChanges.set(secret, changes);
    }
  }

  function addVersion(secret: Secret, id: string, value: SecretValue, stages: readonly string[]): SecretVersion {
    const created: SecretVersion = { id, value, stages: new Set(), createdAt: options.clock() };
    secret.versions.set(id, created);
    for (const stage of stages) {
      attach(secret, created, stage);
    }
    secret.lastChangedAt = options.clock();
    return created;
  }

  return {
    find,
    version,
    holderOf,
    attach,
    addVersion,

    create(name: string, description: string | undefined): Secret {
      if (secrets.has(name)) {
        throw new AwsServiceError(
          'ResourceExistsException',
          `The operation failed because the secret ${name} already exists.`,
        );
      }
      // ARNs end in a dash and six random characters, so a re-created secret never matches an old ARN.
      const suffix = Array.from({ length: 6 }, () => SUFFIX_CHARS[randomInt(SUFFIX_CHARS.length)]).join('');
      const now = options.clock();
      const secret: Secret = {
        name,
        arn: `arn:aws:secretsmanager:${options.region}:000000000000:secret:${name}-${suffix}`,
        description,
        createdAt: now,
        lastChangedAt: now,
        lastAccessedAt: undefined,
        rotationEnabled: false,
        rotationLambdaArn: undefined,
        versions: new Map(),
      };
      secrets.set(name, secret);
      return secret;
    },

    /** GetSecretValue's choice: by id and/or stage (both must agree), AWSCURRENT by default. */
    resolve(secret: Secret, versionId: string | undefined, stage: string | undefined): SecretVersion {
      if (versionId !== undefined) {
        const found = version(secret, versionId);
        if (stage !== undefined && !found.stages.has(stage)) {
          throw notFound(` value for staging label: ${stage}`);
        }
        return found;
      }
      const wanted = stage ?? AWSCURRENT;
      const holder = holderOf(secret, wanted);
      if (holder === undefined) {
        throw notFound(` value for staging label: ${wanted}`);
      }
      return holder;
    },

    /**
     * The string `secretId` (name or ARN) held under AWSCURRENT at `at`, a past moment too; undefined when the secret
     * did not exist or had no string value then (or was removed by `clear`).
     */
    currentStringAt(secretId: string, at: number): string | undefined {
      const secret = lookup(secretId);
      return secret === undefined
        ? undefined
        : currentChanges.get(secret)?.findLast((change) => change.at <= at)?.value;
    },

    newVersionId: () => randomUUID(),
    clear: () => {
      secrets.clear();
      currentChanges.clear();
    },
  };
}

export type SecretStore = ReturnType<typeof createSecretStore>;

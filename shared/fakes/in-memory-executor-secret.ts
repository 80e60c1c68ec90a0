import { SecretValue } from '../config/secret.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { SecretStoreError } from '../ports/errors.ts';
import type { ExecutorSecretStore, SecretVersion } from '../ports/executor-secret.ts';
import { throwIfAborted } from './abort.ts';

export type SecretStage = 'current' | 'pending' | 'previous';

export interface InMemoryExecutorSecret extends ExecutorSecretStore {
  /** Each version's id and stages, oldest first. */
  versions(): readonly { readonly versionId: string; readonly stages: readonly SecretStage[] }[];
  /** Seeds a current version, as a secret created with a value. */
  seedCurrent(versionId: string, value: string): void;
  /** The next `times` calls throw a retryable SecretStoreError and change nothing. */
  failNext(times?: number): void;
}

interface Version {
  readonly versionId: string;
  readonly value: string;
  readonly stages: Set<SecretStage>;
  readonly createdAt: number;
}

/** The executor secret over a list of versions with stages, refusing what Secrets Manager refuses. */
export function createInMemoryExecutorSecret(options: { readonly clock?: Clock } = {}): InMemoryExecutorSecret {
  const clock = options.clock ?? systemClock;
  const versions: Version[] = [];
  let failures = 0;
  const holder = (stage: SecretStage) => versions.find((version) => version.stages.has(stage));
  const view = (version: Version | undefined): SecretVersion | undefined =>
    version === undefined
      ? undefined
      : { versionId: version.versionId, value: new SecretValue(version.value), createdAt: version.createdAt };
  const enter = (operation: string, signal: AbortSignal | undefined) => {
    throwIfAborted(signal, operation);
    if (failures > 0) {
      failures -= 1;
      throw new SecretStoreError(operation, 'injected failure', { retryable: true });
    }
  };
  const move = (stage: SecretStage, to: Version) => {
    holder(stage)?.stages.delete(stage);
    to.stages.add(stage);
  };

  return {
    async current(options = {}) {
      enter('current', options.signal);
      return view(holder('current'));
    },
    async staged(rotation, options = {}) {
      enter('staged', options.signal);
      return view(versions.find((version) => version.versionId === rotation));
    },
    async stage(rotation, value, options = {}) {
      enter('stage', options.signal);
      const existing = versions.find((version) => version.versionId === rotation);
      if (existing !== undefined) {
        return { versionId: existing.versionId, value: new SecretValue(existing.value), createdAt: existing.createdAt };
      }
      const version: Version = { versionId: rotation, value: value.reveal(), stages: new Set(), createdAt: clock() };
      versions.push(version);
      move('pending', version);
      return { versionId: rotation, value, createdAt: version.createdAt };
    },
    async promote(rotation, options = {}) {
      enter('promote', options.signal);
      const version = versions.find((candidate) => candidate.versionId === rotation);
      if (version === undefined) {
        throw new SecretStoreError('promote', `no version was staged for rotation ${rotation}`);
      }
      if (!version.stages.has('current')) {
        const current = holder('current');
        if (current !== undefined) {
          move('previous', current);
        }
        move('current', version);
      }
      version.stages.delete('pending');
    },
    async pendingRotation(options = {}) {
      enter('pendingRotation', options.signal);
      const pending = holder('pending');
      return pending === undefined || pending.stages.has('current') ? undefined : pending.versionId;
    },
    versions: () => versions.map(({ versionId, stages }) => ({ versionId, stages: [...stages] })),
    seedCurrent(versionId, value) {
      const version: Version = { versionId, value, stages: new Set(), createdAt: clock() };
      versions.push(version);
      move('current', version);
    },
    failNext(times = 1) {
      failures = times;
    },
  };
}

import type { SecretValue } from '../config/secret.ts';
import type { CallOptions } from './call-options.ts';

/** One version of the executor secret. */
export interface SecretVersion {
  /** The store's id for it (Secrets Manager `VersionId`). */
  readonly versionId: string;
  readonly value: SecretValue;
  /** Epoch milliseconds the store created it, where it says (Secrets Manager's `CreatedDate`). */
  readonly createdAt?: number;
}

/**
 * The executor secret with versions, as a rotation moves through them: a new token is staged as *pending* under the
 * rotation's id before Sourcegraph sees it, and becomes *current* (what executors boot with) once Sourcegraph
 * accepts it; the old current becomes *previous*. Every call is idempotent per rotation, so a rotation that crashed
 * after any call can run again from the start. Throws `SecretStoreError` when the store refuses or cannot be read.
 */
export interface ExecutorSecretStore {
  /** What executors boot with; undefined when the secret has no current version yet. */
  current(options?: CallOptions): Promise<SecretVersion | undefined>;
  /** The version `rotation` staged, whether or not it was promoted since; undefined when it staged none. */
  staged(rotation: string, options?: CallOptions): Promise<SecretVersion | undefined>;
  /**
   * Stages `value` as pending under `rotation`. Staging a rotation that staged before changes nothing and answers the
   * value it staged then (a retry after a crash must not mint a second token).
   */
  stage(rotation: string, value: SecretValue, options?: CallOptions): Promise<SecretVersion>;
  /** Makes `rotation`'s version current; the one it replaces becomes previous. Done already: nothing changes. */
  promote(rotation: string, options?: CallOptions): Promise<void>;
  /** A rotation staged but not promoted (another rotation under way, or one that crashed), if any. */
  pendingRotation(options?: CallOptions): Promise<string | undefined>;
}

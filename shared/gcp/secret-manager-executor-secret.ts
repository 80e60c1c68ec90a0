import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { SecretValue } from '../config/secret.ts';
import type { CallOptions } from '../ports/call-options.ts';
import { SecretStoreError } from '../ports/errors.ts';
import type { ExecutorSecretStore, SecretVersion } from '../ports/executor-secret.ts';
import { crc32c } from './crc32c.ts';
import { describeGoogleError, GrpcCode, grpcCode, isNotFound, isTransientGoogleError } from './google-errors.ts';

/**
 * The executor secret in Google Secret Manager. Versions are numbered and have no staging labels, so the stages are
 * version aliases on the Secret: `current` (what executors boot with), `pending`, `previous`, and `r-<rotation id>`
 * on the version each rotation staged. Facts this relies on, checked against the API's own sources:
 * - `Secret.version_aliases` maps alias → version number; an alias is a letter then letters, digits, `-` or `_`, at
 *   most 63 characters, never `latest`/`new`, and at most 50 per secret. Access by alias works on GetSecretVersion
 *   and AccessSecretVersion (`projects/p/secrets/s/versions/<alias>`), and aliases change only through UpdateSecret
 *   (google/cloud/secretmanager/v1/resources.proto in @google-cloud/secret-manager; the "Assign an alias to a secret
 *   version" guide, cloud.google.com/secret-manager/docs/assign-alias-to-secret-version).
 * - UpdateSecret is `PATCH /v1/{secret.name}` with `updateMask=version_aliases`, the Secret as body, and the map sent
 *   replaces the whole map (service.proto; REST reference for projects.secrets.patch).
 * - The Secret's `etag` in the patch body is a precondition: a stale one fails with FAILED_PRECONDITION (HTTP 400),
 *   and adding a version leaves the secret's etag alone (cloud.google.com/secret-manager/docs/etags).
 * Alias names are case-sensitive and a rotation id is used as given, so `r-<uuid>` (38 characters) always fits.
 */

const CURRENT = 'current';
const PENDING = 'pending';
const PREVIOUS = 'previous';
const ROTATION_PREFIX = 'r-';
/** What may follow `r-` for the whole to be a valid alias (63 characters at most). */
const ROTATION_ID = /^[A-Za-z0-9_-]{1,61}$/;
/** Read-modify-write rounds on the aliases before giving up to a competing writer. */
const MAX_UPDATE_ATTEMPTS = 5;

type Aliases = ReadonlyMap<string, number>;

/** The Secret's aliases and the etag they were read under. */
interface Snapshot {
  readonly etag: string;
  readonly aliases: Aliases;
}

/** What one round of a read-modify-write decided: answer now, or write these aliases first. */
type Plan<T> =
  | { readonly kind: 'answer'; readonly result: T }
  | { readonly kind: 'write'; readonly aliases: Aliases; readonly result: T }
  /** Write, then plan again on the secret as written. */
  | { readonly kind: 'write-then-replan'; readonly aliases: Aliases };

/**
 * `secret` is `projects/<p>/secrets/<s>`. A version's `versionId` is the rotation that staged it (the `r-` alias on
 * it), as a Secrets Manager version's id is its rotation token; a version no rotation staged (the one Terraform
 * created) answers with its number.
 */
export function createSecretManagerExecutorSecret(client: SecretManagerServiceClient, secret: string) {
  const fail = (operation: string, error: unknown, signal: AbortSignal | undefined) =>
    // Google's messages name the resource, never a payload.
    new SecretStoreError(operation, `${secret}: ${describeGoogleError(error)}`, {
      cause: error,
      retryable: isTransientGoogleError(error, signal),
    });
  const call = async <T>(operation: string, options: CallOptions, send: () => Promise<T>): Promise<T> => {
    try {
      options.signal?.throwIfAborted();
      return await send();
    } catch (error) {
      throw fail(operation, error, options.signal);
    }
  };

  const read = (operation: string, options: CallOptions) =>
    call(operation, options, async () => {
      const [found] = await client.getSecret({ name: secret }, { signal: options.signal });
      return snapshotOf(found);
    });

  /** The version `id` (a number or an alias) names; undefined when there is none. */
  const access = (operation: string, id: string, options: CallOptions) =>
    call(operation, options, async () => {
      try {
        const [version] = await client.accessSecretVersion(
          { name: `${secret}/versions/${id}` },
          { signal: options.signal },
        );
        return { number: numberOf(version.name), value: payloadOf(operation, secret, version.payload) };
      } catch (error) {
        if (isNotFound(error)) {
          return undefined;
        }
        throw error;
      }
    });

  /**
   * What counts as current while no `current` alias exists (a secret Terraform created with one version): the newest
   * enabled version no rotation staged. `stage` pins `current` to it before adding a version, so a version left
   * unaliased by a crash can never pass for current on a secret that had one.
   */
  const newestUnstaged = async (operation: string, snapshot: Snapshot, options: CallOptions) => {
    const staged = new Set(
      [...snapshot.aliases].filter(([alias]) => alias === PENDING || isRotationAlias(alias)).map(([, n]) => n),
    );
    const [versions] = await call(operation, options, () =>
      client.listSecretVersions({ parent: secret, filter: 'state:ENABLED' }, { signal: options.signal }),
    );
    // Newest by number: the list order is not a documented contract.
    const numbers = versions.flatMap((version) => {
      const number = numberOf(version.name);
      return number === undefined || staged.has(number) ? [] : [number];
    });
    return numbers.length === 0 ? undefined : Math.max(...numbers);
  };

  /**
   * Read, plan, and write the aliases under the etag just read. Another writer in between makes the write fail on
   * the etag; the secret is then read again and planned afresh, a bounded number of times.
   */
  const update = async <T>(
    operation: string,
    options: CallOptions,
    plan: (snapshot: Snapshot) => Promise<Plan<T>>,
  ): Promise<T> => {
    let snapshot = await read(operation, options);
    for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt += 1) {
      const next = await plan(snapshot);
      if (next.kind === 'answer') {
        return next.result;
      }
      const written = await write(operation, snapshot, next.aliases, options);
      if (written.ok && next.kind === 'write') {
        return next.result;
      }
      snapshot = written.snapshot;
    }
    throw new SecretStoreError(
      operation,
      `${secret}: the version aliases changed under every one of ${MAX_UPDATE_ATTEMPTS} attempts; another rotation is probably under way`,
      { retryable: true },
    );
  };

  /** The secret as written, or, when another writer got there first, as it is now. */
  const write = async (operation: string, snapshot: Snapshot, aliases: Aliases, options: CallOptions) => {
    try {
      options.signal?.throwIfAborted();
      const [updated] = await client.updateSecret(
        {
          secret: { name: secret, etag: snapshot.etag, versionAliases: Object.fromEntries(aliases) },
          updateMask: { paths: ['version_aliases'] },
        },
        { signal: options.signal },
      );
      return { ok: true, snapshot: snapshotOf(updated) } as const;
    } catch (error) {
      const code = grpcCode(error);
      if (code === GrpcCode.FailedPrecondition || code === GrpcCode.Aborted) {
        // FAILED_PRECONDITION is also what a refused alias gets; only a changed etag means someone else wrote.
        const now = await read(operation, options);
        if (now.etag !== snapshot.etag) {
          return { ok: false, snapshot: now } as const;
        }
      }
      throw fail(operation, error, options.signal);
    }
  };

  const rotationOf = (aliases: Aliases, version: number) =>
    [...aliases].find(([alias, n]) => n === version && isRotationAlias(alias))?.[0].slice(ROTATION_PREFIX.length);

  return {
    async current(options: CallOptions = {}) {
      const snapshot = await read('current', options);
      const id = snapshot.aliases.has(CURRENT) ? CURRENT : await newestUnstaged('current', snapshot, options);
      if (id === undefined) {
        return undefined;
      }
      const found = await access('current', String(id), options);
      if (found?.number === undefined) {
        return undefined;
      }
      const versionId = rotationOf(snapshot.aliases, found.number) ?? String(found.number);
      return { versionId, value: found.value } satisfies SecretVersion;
    },

    async staged(rotation: string, options: CallOptions = {}) {
      const found = await access('staged', rotationAlias('staged', secret, rotation), options);
      if (found === undefined) {
        // Not found is also what a missing secret answers: reading it tells the two apart.
        await read('staged', options);
        return undefined;
      }
      return { versionId: rotation, value: found.value } satisfies SecretVersion;
    },

    async stage(rotation: string, value: SecretValue, options: CallOptions = {}) {
      const alias = rotationAlias('stage', secret, rotation);
      // Added at most once per call, however many rounds the aliases take. A crash between adding it and aliasing
      // it leaves a version no alias names: executors read `current`, so nobody reads it, and a retry adds another.
      let added: number | undefined;
      return update('stage', options, async (snapshot): Promise<Plan<SecretVersion>> => {
        if (snapshot.aliases.has(alias)) {
          // Staged before (or by a concurrent retry of this rotation): answer what was staged then.
          const staged = await access('stage', alias, options);
          if (staged === undefined) {
            throw new SecretStoreError('stage', `${secret}: the version staged for rotation ${rotation} is gone`);
          }
          return { kind: 'answer', result: { versionId: rotation, value: staged.value } };
        }
        if (!snapshot.aliases.has(CURRENT)) {
          const baseline = await newestUnstaged('stage', snapshot, options);
          if (baseline !== undefined) {
            return { kind: 'write-then-replan', aliases: new Map([...snapshot.aliases, [CURRENT, baseline]]) };
          }
        }
        added ??= await addVersion(value, options);
        const next = new Map([...snapshot.aliases, [alias, added], [PENDING, added]]);
        // The version that was pending keeps its alias until the next promotion, so its rotation still finds it.
        const keep = [next.get(CURRENT), next.get(PREVIOUS), snapshot.aliases.get(PENDING), added];
        return { kind: 'write', aliases: pruned(next, keep), result: { versionId: rotation, value } };
      });
    },

    async promote(rotation: string, options: CallOptions = {}) {
      const alias = rotationAlias('promote', secret, rotation);
      await update('promote', options, async (snapshot): Promise<Plan<void>> => {
        const own = snapshot.aliases.get(alias);
        if (own === undefined) {
          throw new SecretStoreError('promote', `${secret}: no version was staged for rotation ${rotation}`);
        }
        const pinned = snapshot.aliases.get(CURRENT);
        if (pinned === own && snapshot.aliases.get(PENDING) !== own) {
          return { kind: 'answer', result: undefined };
        }
        const current = pinned ?? (await newestUnstaged('promote', snapshot, options));
        const next = new Map([...snapshot.aliases, [CURRENT, own]]);
        if (current !== undefined && current !== own) {
          next.set(PREVIOUS, current);
        }
        if (next.get(PENDING) === own) {
          next.delete(PENDING);
        }
        // Only rotations whose version is still current, previous or pending stay findable: a secret holds at most
        // 50 aliases, and an older rotation has nothing left to resume.
        const keep = [next.get(CURRENT), next.get(PREVIOUS), next.get(PENDING)];
        return { kind: 'write', aliases: pruned(next, keep), result: undefined };
      });
    },

    async pendingRotation(options: CallOptions = {}) {
      const { aliases } = await read('pendingRotation', options);
      const pending = aliases.get(PENDING);
      return pending === undefined || pending === aliases.get(CURRENT) ? undefined : rotationOf(aliases, pending);
    },
  } satisfies ExecutorSecretStore;

  async function addVersion(value: SecretValue, options: CallOptions): Promise<number> {
    const data = Buffer.from(value.reveal(), 'utf8');
    const [version] = await call('stage', options, () =>
      client.addSecretVersion(
        { parent: secret, payload: { data, dataCrc32c: crc32c(data) } },
        { signal: options.signal },
      ),
    );
    const number = numberOf(version.name);
    if (number === undefined) {
      throw new SecretStoreError('stage', `${secret}: the added version has no number in its name`);
    }
    return number;
  }
}

function isRotationAlias(alias: string): boolean {
  return alias.startsWith(ROTATION_PREFIX);
}

function rotationAlias(operation: string, secret: string, rotation: string): string {
  if (!ROTATION_ID.test(rotation)) {
    throw new SecretStoreError(
      operation,
      `${secret}: rotation id ${JSON.stringify(rotation)} cannot name a version alias (letters, digits, - and _, at most 61)`,
    );
  }
  return `${ROTATION_PREFIX}${rotation}`;
}

/** Drops the `r-` aliases of versions not in `keep`; aliases someone else set are left alone. */
function pruned(aliases: Map<string, number>, keep: readonly (number | undefined)[]): Aliases {
  for (const [alias, number] of aliases) {
    if (isRotationAlias(alias) && !keep.includes(number)) {
      aliases.delete(alias);
    }
  }
  return aliases;
}

function snapshotOf(found: { etag?: string | null; versionAliases?: Record<string, unknown> | null }): Snapshot {
  const aliases = new Map<string, number>();
  for (const [alias, raw] of Object.entries(found.versionAliases ?? {})) {
    // int64: a string over REST, a number or a Long over gRPC.
    const number = Number(String(raw));
    if (Number.isSafeInteger(number) && number > 0) {
      aliases.set(alias, number);
    }
  }
  return { etag: found.etag ?? '', aliases };
}

/** `projects/p/secrets/s/versions/7` → 7. */
function numberOf(name: string | null | undefined): number | undefined {
  const last = Number(name?.split('/').at(-1));
  return Number.isSafeInteger(last) && last > 0 ? last : undefined;
}

/** `fatal`: a payload that is not UTF-8 fails instead of reaching Sourcegraph with replacement characters. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

function payloadOf(
  operation: string,
  secret: string,
  payload: { data?: Uint8Array | string | null; dataCrc32c?: unknown } | null | undefined,
): SecretValue {
  const data = payload?.data;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'base64') : data;
  if (bytes === null || bytes === undefined || bytes.length === 0) {
    throw new SecretStoreError(operation, `${secret}: the version has an empty payload`);
  }
  const checksum = payload?.dataCrc32c;
  if (checksum !== null && checksum !== undefined && checksum !== '' && Number(String(checksum)) !== crc32c(bytes)) {
    // Corruption in transit or storage: reading again may get an intact copy.
    throw new SecretStoreError(operation, `${secret}: the payload does not match its CRC32C checksum`, {
      retryable: true,
    });
  }
  try {
    return new SecretValue(utf8.decode(bytes));
  } catch {
    // The TypeError is dropped on purpose: nothing of the payload may reach a message.
    throw new SecretStoreError(operation, `${secret}: the payload is not UTF-8 text`);
  }
}

import { crc32c } from '../../shared/gcp/crc32c.ts';
import { GoogleStatus, type GoogleStatusCode } from './google-json.ts';

/**
 * Secret Manager's state: secrets with numbered versions. `latest` names the newest version whatever its state, so
 * reading it after the newest was disabled fails, as on Google (callers that want "newest enabled" must list).
 */

export const VERSION_STATES = ['STATE_UNSPECIFIED', 'ENABLED', 'DISABLED', 'DESTROYED'] as const;
export type VersionState = (typeof VERSION_STATES)[number];

export interface StoredVersion {
  readonly number: number;
  readonly createdAt: number;
  readonly crc32c: number;
  readonly clientSpecifiedPayloadChecksum: boolean;
  state: VersionState;
  /** Dropped when destroyed. */
  data: Buffer | undefined;
  destroyedAt?: number;
  /** Changes with every state change, for optimistic concurrency on disable/enable/destroy. */
  etag: string;
}

export interface StoredSecret {
  readonly name: string;
  readonly createdAt: number;
  readonly versions: StoredVersion[];
  /** Alias → version number; replaced whole by `secrets.patch` with `version_aliases` in its mask. */
  versionAliases: ReadonlyMap<string, number>;
  /** Changes with every update of the secret (not when a version is added or changes state). */
  etag: string;
}

/** What `secrets.patch` asks for, as the route parsed it. */
export interface SecretPatch {
  /** `updateMask` paths, as sent (snake_case or lowerCamelCase). */
  readonly paths: readonly string[];
  /** Empty or absent: no precondition. */
  readonly etag: string | undefined;
  /** Alias → version number as sent (int64: a string or a number). */
  readonly versionAliases: Readonly<Record<string, unknown>>;
}

/**
 * Alias names: a letter, then letters, digits, `-` or `_`, at most 63 in all; `latest` and `new` (any case) are
 * reserved (Secret.version_aliases in google/cloud/secretmanager/v1/resources.proto; the "Assign an alias" guide).
 */
const ALIAS = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const RESERVED_ALIASES: ReadonlySet<string> = new Set(['latest', 'new']);
/** resources.proto: "No more than 50 aliases can be assigned to a given secret." */
const MAX_ALIASES = 50;

/** Mask paths of fields the real API updates but this emulator does not model: refused as unimplemented. */
const UNMODELLED_PATHS: ReadonlySet<string> = new Set([
  'labels',
  'annotations',
  'topics',
  'rotation',
  'expire_time',
  'ttl',
  'version_destroy_ttl',
  'customer_managed_encryption',
]);

/** `versionAliases` → `version_aliases`: Google accepts a mask path in either spelling. */
const snakeCase = (path: string) => path.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

export interface Refusal {
  readonly code: GoogleStatusCode;
  readonly message: string;
}

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly refusal: Refusal };

/** The alias fleetplane's rotation moves to the version executors boot with. */
const CURRENT_ALIAS = 'current';

const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
const refuse = (code: GoogleStatusCode, message: string): Outcome<never> => ({ ok: false, refusal: { code, message } });

export function createSecretStore(clock: () => number) {
  const secrets = new Map<string, StoredSecret>();
  /**
   * Each secret's current value (`currentValueOf`) over time, so a VM launched at a moment the world replays reads
   * what the secret held then, not what it holds by the time the world looks.
   */
  const currentChanges = new Map<StoredSecret, { readonly at: number; readonly value: string | undefined }[]>();
  const noteCurrent = (target: StoredSecret): void => {
    const value = currentValueOf(target);
    const changes = currentChanges.get(target) ?? [];
    if (changes.length === 0 || changes.at(-1)?.value !== value) {
      changes.push({ at: clock(), value });
      currentChanges.set(target, changes);
    }
  };
  let etags = 0;
  const nextEtag = () => `"${(clock() * 1000 + (etags++ % 1000)).toString()}"`;

  const secret = (name: string): Outcome<StoredSecret> => {
    const found = secrets.get(name);
    return found === undefined ? refuse(GoogleStatus.NotFound, `Secret [${name}] not found.`) : ok(found);
  };

  /**
   * `id` is a number or `latest`; with `byAlias`, also an alias of the secret. Google resolves aliases only for
   * GetSecretVersion and AccessSecretVersion (resources.proto), so disable/enable/destroy pass `byAlias: false`.
   */
  const version = (secretName: string, id: string, byAlias = false): Outcome<StoredVersion> => {
    const parent = secret(secretName);
    if (!parent.ok) {
      // Google answers `latest` of a missing secret as it answers `latest` of an empty one.
      return id === 'latest'
        ? refuse(GoogleStatus.NotFound, `Secret [${secretName}] not found or has no versions.`)
        : parent;
    }
    const aliased = byAlias ? parent.value.versionAliases.get(id) : undefined;
    const wanted = aliased === undefined ? id : String(aliased);
    const found =
      id === 'latest' ? parent.value.versions.at(-1) : parent.value.versions.find((v) => String(v.number) === wanted);
    if (found === undefined) {
      return id === 'latest'
        ? refuse(GoogleStatus.NotFound, `Secret [${secretName}] not found or has no versions.`)
        : refuse(GoogleStatus.NotFound, `Secret Version [${secretName}/versions/${id}] not found.`);
    }
    return ok(found);
  };

  return {
    secrets,
    secret,
    version,

    /**
     * What the secret `name` (`projects/<p>/secrets/<s>`) held at `at`, a past moment too, as an executor reads it at
     * boot (`currentValueOf`); undefined when the secret did not exist or had no readable value then.
     */
    currentValueAt(name: string, at: number): string | undefined {
      const found = secrets.get(name);
      return found === undefined ? undefined : currentChanges.get(found)?.findLast((change) => change.at <= at)?.value;
    },

    create(name: string): Outcome<StoredSecret> {
      if (secrets.has(name)) {
        return refuse(GoogleStatus.AlreadyExists, `Secret [${name}] already exists.`);
      }
      const created: StoredSecret = {
        name,
        createdAt: clock(),
        versions: [],
        versionAliases: new Map(),
        etag: nextEtag(),
      };
      secrets.set(name, created);
      return ok(created);
    },

    add(secretName: string, data: Buffer, sentCrc32c: number | undefined): Outcome<StoredVersion> {
      const parent = secret(secretName);
      if (!parent.ok) {
        return parent;
      }
      const checksum = crc32c(data);
      if (sentCrc32c !== undefined && sentCrc32c !== checksum) {
        return refuse(
          GoogleStatus.InvalidArgument,
          'Checksum mismatch: payload.data_crc32c does not match payload.data.',
        );
      }
      const added: StoredVersion = {
        number: parent.value.versions.length + 1,
        createdAt: clock(),
        crc32c: checksum,
        clientSpecifiedPayloadChecksum: sentCrc32c !== undefined,
        state: 'ENABLED',
        data,
        etag: nextEtag(),
      };
      parent.value.versions.push(added);
      noteCurrent(parent.value);
      return ok(added);
    },

    /**
     * `secrets.patch`. Only `version_aliases` is modelled: the mask must name it, and the map sent replaces the
     * secret's whole map. A stale etag fails with FAILED_PRECONDITION (HTTP 400), as the "Use entity tags" guide
     * says; every successful update changes the etag, even one that changes nothing.
     */
    update(secretName: string, patch: SecretPatch): Outcome<StoredSecret> {
      const parent = secret(secretName);
      if (!parent.ok) {
        return parent;
      }
      const target = parent.value;
      const paths = patch.paths.map(snakeCase);
      if (paths.length === 0) {
        return refuse(GoogleStatus.InvalidArgument, 'update_mask is required and must name at least one field.');
      }
      for (const path of paths) {
        if (UNMODELLED_PATHS.has(path)) {
          return refuse(
            GoogleStatus.Unimplemented,
            `The fleetplane emulator updates only version_aliases, not ${path}.`,
          );
        }
        if (path !== 'version_aliases') {
          return refuse(GoogleStatus.InvalidArgument, `Invalid update_mask path [${path}] for a Secret.`);
        }
      }
      if (patch.etag !== undefined && patch.etag !== '' && patch.etag !== target.etag) {
        return refuse(GoogleStatus.FailedPrecondition, `The etag provided for Secret [${secretName}] does not match.`);
      }
      const aliases = aliasesOf(target, patch.versionAliases);
      if (!aliases.ok) {
        return aliases;
      }
      target.versionAliases = aliases.value;
      target.etag = nextEtag();
      noteCurrent(target);
      return ok(target);
    },

    /** Moves a version to `target`; a destroyed version stays destroyed. */
    transition(secretName: string, id: string, target: VersionState, etag: string | undefined): Outcome<StoredVersion> {
      const found = version(secretName, id);
      if (!found.ok) {
        return found;
      }
      const current = found.value;
      const name = `${secretName}/versions/${current.number}`;
      if (etag !== undefined && etag !== '' && etag !== current.etag) {
        return refuse(
          GoogleStatus.FailedPrecondition,
          `The etag provided for Secret Version [${name}] does not match.`,
        );
      }
      if (current.state === 'DESTROYED') {
        return refuse(GoogleStatus.FailedPrecondition, `Secret Version [${name}] is in DESTROYED state.`);
      }
      current.state = target;
      current.etag = nextEtag();
      if (target === 'DESTROYED') {
        current.data = undefined;
        current.destroyedAt = clock();
      }
      const parent = secrets.get(secretName);
      if (parent !== undefined) {
        noteCurrent(parent);
      }
      return ok(current);
    },
  };
}

/**
 * The version an executor boots with: the one the `current` alias names (nothing when that one is not enabled), else,
 * before any rotation set the alias, the newest enabled version. Its payload as UTF-8 text.
 */
export function currentValueOf(target: StoredSecret): string | undefined {
  const aliased = target.versionAliases.get(CURRENT_ALIAS);
  const version =
    aliased === undefined
      ? target.versions.findLast((candidate) => candidate.state === 'ENABLED')
      : target.versions.find((candidate) => candidate.number === aliased);
  return version?.state === 'ENABLED' ? version.data?.toString('utf8') : undefined;
}

/** The map a patch asks for, or why the real API would refuse it. */
function aliasesOf(target: StoredSecret, sent: Readonly<Record<string, unknown>>): Outcome<Map<string, number>> {
  const entries = Object.entries(sent);
  if (entries.length > MAX_ALIASES) {
    return refuse(GoogleStatus.InvalidArgument, `A secret can have at most ${MAX_ALIASES} version aliases.`);
  }
  const aliases = new Map<string, number>();
  for (const [alias, raw] of entries) {
    if (!ALIAS.test(alias) || RESERVED_ALIASES.has(alias.toLowerCase())) {
      return refuse(GoogleStatus.InvalidArgument, `Invalid version alias [${alias}].`);
    }
    const number = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1) {
      return refuse(GoogleStatus.InvalidArgument, `Version alias [${alias}] must name a version number.`);
    }
    const version = target.versions.find((v) => v.number === number);
    const name = `${target.name}/versions/${number}`;
    if (version === undefined) {
      return refuse(
        GoogleStatus.InvalidArgument,
        `Version alias [${alias}] names Secret Version [${name}], which does not exist.`,
      );
    }
    if (version.state === 'DESTROYED') {
      return refuse(
        GoogleStatus.FailedPrecondition,
        `Version alias [${alias}] names Secret Version [${name}], which is in DESTROYED state.`,
      );
    }
    aliases.set(alias, number);
  }
  return ok(aliases);
}

export type SecretStore = ReturnType<typeof createSecretStore>;

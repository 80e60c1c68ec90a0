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
}

export interface Refusal {
  readonly code: GoogleStatusCode;
  readonly message: string;
}

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly refusal: Refusal };

const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
const refuse = (code: GoogleStatusCode, message: string): Outcome<never> => ({ ok: false, refusal: { code, message } });

export function createSecretStore(clock: () => number) {
  const secrets = new Map<string, StoredSecret>();
  let etags = 0;
  const nextEtag = () => `"${(clock() * 1000 + (etags++ % 1000)).toString()}"`;

  const secret = (name: string): Outcome<StoredSecret> => {
    const found = secrets.get(name);
    return found === undefined ? refuse(GoogleStatus.NotFound, `Secret [${name}] not found.`) : ok(found);
  };

  const version = (secretName: string, id: string): Outcome<StoredVersion> => {
    const parent = secret(secretName);
    if (!parent.ok) {
      // Google answers `latest` of a missing secret as it answers `latest` of an empty one.
      return id === 'latest'
        ? refuse(GoogleStatus.NotFound, `Secret [${secretName}] not found or has no versions.`)
        : parent;
    }
    const found =
      id === 'latest' ? parent.value.versions.at(-1) : parent.value.versions.find((v) => String(v.number) === id);
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

    create(name: string): Outcome<StoredSecret> {
      if (secrets.has(name)) {
        return refuse(GoogleStatus.AlreadyExists, `Secret [${name}] already exists.`);
      }
      const created: StoredSecret = { name, createdAt: clock(), versions: [] };
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
      return ok(added);
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
      return ok(current);
    },
  };
}

export type SecretStore = ReturnType<typeof createSecretStore>;

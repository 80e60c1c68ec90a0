import { enumOut } from './google-json.ts';
import { type StoredSecret, type StoredVersion, VERSION_STATES } from './secret-store.ts';

/** Secret Manager resources in their JSON mapping: RFC 3339 times, state as a number when the client asked for ints. */

const time = (ms: number) => new Date(ms).toISOString();

/** `versionAliases` values are int64, which the JSON mapping writes as strings; an empty map is left out. */
export const secretJson = (secret: StoredSecret) => ({
  name: secret.name,
  replication: { automatic: {} },
  createTime: time(secret.createdAt),
  etag: secret.etag,
  ...(secret.versionAliases.size === 0
    ? {}
    : {
        versionAliases: Object.fromEntries(
          [...secret.versionAliases].map(([alias, number]) => [alias, String(number)]),
        ),
      }),
});

export const versionJson = (secret: string, version: StoredVersion, asInt: boolean) => ({
  name: `${secret}/versions/${version.number}`,
  createTime: time(version.createdAt),
  ...(version.destroyedAt === undefined ? {} : { destroyTime: time(version.destroyedAt) }),
  state: enumOut(VERSION_STATES, version.state, asInt),
  etag: version.etag,
  clientSpecifiedPayloadChecksum: version.clientSpecifiedPayloadChecksum,
  replicationStatus: { automatic: {} },
});

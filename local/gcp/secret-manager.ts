import * as z from 'zod';
import { type Emulator, type EmulatorRequest, type EmulatorResponse, startEmulator } from '../http/emulator.ts';
import {
  GoogleStatus,
  googleError,
  googleFaults,
  json,
  notFoundRoute,
  readJson,
  tokenOffset,
  wantsIntEnums,
} from './google-json.ts';
import { secretRouteOf } from './secret-routes.ts';
import { createSecretStore, type Outcome, type VersionState } from './secret-store.ts';
import { secretJson, versionJson } from './secret-views.ts';

export interface SecretManagerEmulatorOptions {
  readonly clock?: () => number;
  readonly port?: number;
}

export interface VersionSnapshot {
  readonly version: number;
  readonly state: VersionState;
  /** UTF-8 text of the payload; undefined once destroyed. */
  readonly value: string | undefined;
}

export interface SecretManagerEmulator {
  readonly emulator: Emulator;
  /** Creates `projects/<project>/secrets/<id>`, with a first version when `value` is given. Returns the secret's name. */
  createSecret(project: string, id: string, value?: string | Buffer): string;
  addVersion(project: string, id: string, value: string | Buffer): number;
  versions(project: string, id: string): readonly VersionSnapshot[];
  /** The secret's version aliases, alias → version number. */
  versionAliases(project: string, id: string): Readonly<Record<string, number>>;
  /**
   * What a VM reads at boot now: the version the `current` alias names, else the newest enabled one, as UTF-8 text;
   * undefined when the secret does not exist or that version is not readable.
   */
  currentValue(project: string, id: string): string | undefined;
  /** The same at a moment `at`, a past one too: what a VM launched then read. */
  currentValueAt(project: string, id: string, at: number): string | undefined;
}

/** Secret Manager allows at most 64 KiB of payload per version. */
const MAX_PAYLOAD_BYTES = 64 * 1024;

const addBody = z.object({
  payload: z.object({
    data: z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/),
    dataCrc32c: z.union([z.string().regex(/^\d+$/), z.number().int()]).optional(),
  }),
});

/** The Secret in a `secrets.patch` body; fields outside the mask are ignored, as Google ignores them. */
const patchBody = z.object({
  etag: z.string().optional(),
  versionAliases: z.record(z.string(), z.unknown()).optional(),
});

/** Secret Manager v1 in the REST shape `SecretManagerServiceClient` uses with `fallback: true`. */
export async function startSecretManagerEmulator(
  options: SecretManagerEmulatorOptions = {},
): Promise<SecretManagerEmulator> {
  const clock = options.clock ?? Date.now;
  const store = createSecretStore(clock);
  const answer = <T>(outcome: Outcome<T>, render: (value: T) => unknown): EmulatorResponse =>
    outcome.ok ? json(200, render(outcome.value)) : googleError(outcome.refusal.code, outcome.refusal.message);

  function handle(request: EmulatorRequest): EmulatorResponse {
    const asInt = wantsIntEnums(request.query);
    const route = secretRouteOf(request);
    if (route === undefined) {
      return notFoundRoute(request);
    }
    const { operation, path: secretPath, version: versionId } = route;
    switch (operation) {
      case 'createSecret': {
        const id = request.query.get('secretId') ?? '';
        if (!/^[\w-]{1,255}$/.test(id)) {
          return googleError(GoogleStatus.InvalidArgument, `Invalid secret ID [${id}].`);
        }
        return answer(store.create(`${secretPath}/secrets/${id}`), secretJson);
      }
      case 'getSecret':
        return answer(store.secret(secretPath), secretJson);
      case 'updateSecret': {
        const raw = readJson(request);
        const body = raw.ok ? patchBody.safeParse(raw.value) : undefined;
        if (body === undefined || !body.success) {
          return googleError(GoogleStatus.InvalidArgument, 'Invalid JSON payload received: expected a Secret.');
        }
        const mask = request.query.get('updateMask') ?? '';
        return answer(
          store.update(secretPath, {
            paths: mask
              .split(',')
              .map((path) => path.trim())
              .filter((path) => path !== ''),
            etag: body.data.etag,
            versionAliases: body.data.versionAliases ?? {},
          }),
          secretJson,
        );
      }
      case 'addSecretVersion': {
        const raw = readJson(request);
        const body = raw.ok ? addBody.safeParse(raw.value) : undefined;
        if (body === undefined || !body.success) {
          return googleError(
            GoogleStatus.InvalidArgument,
            'Invalid JSON payload received: payload.data must be base64.',
          );
        }
        const data = Buffer.from(body.data.payload.data, 'base64');
        if (data.length > MAX_PAYLOAD_BYTES) {
          return googleError(GoogleStatus.InvalidArgument, 'Secret Payload cannot be larger than 64KiB.');
        }
        const sent = body.data.payload.dataCrc32c;
        return answer(store.add(secretPath, data, sent === undefined ? undefined : Number(sent)), (added) =>
          versionJson(secretPath, added, asInt),
        );
      }
      case 'listSecretVersions':
        return listVersions(secretPath, request.query, asInt);
      case 'getSecretVersion':
        return answer(store.version(secretPath, versionId, true), (found) => versionJson(secretPath, found, asInt));
      case 'accessSecretVersion':
        return access(secretPath, versionId);
      case 'disableSecretVersion':
      case 'enableSecretVersion':
      case 'destroySecretVersion': {
        const target =
          operation === 'disableSecretVersion'
            ? 'DISABLED'
            : operation === 'enableSecretVersion'
              ? 'ENABLED'
              : 'DESTROYED';
        const raw = readJson(request);
        const etag = raw.ok ? z.object({ etag: z.string().optional() }).safeParse(raw.value).data?.etag : undefined;
        return answer(store.transition(secretPath, versionId, target, etag), (changed) =>
          versionJson(secretPath, changed, asInt),
        );
      }
    }
  }

  function access(secretPath: string, versionId: string): EmulatorResponse {
    const found = store.version(secretPath, versionId, true);
    if (!found.ok) {
      return googleError(found.refusal.code, found.refusal.message);
    }
    const { number, state, data, crc32c } = found.value;
    if (state !== 'ENABLED' || data === undefined) {
      return googleError(
        GoogleStatus.FailedPrecondition,
        `Secret Version [${secretPath}/versions/${number}] is in ${state} state.`,
      );
    }
    // The resolved number, not `latest` or an alias, is what a caller records as the version it read.
    return json(200, {
      name: `${secretPath}/versions/${number}`,
      payload: { data: data.toString('base64'), dataCrc32c: String(crc32c) },
    });
  }

  function listVersions(secretPath: string, query: URLSearchParams, asInt: boolean): EmulatorResponse {
    const parent = store.secret(secretPath);
    if (!parent.ok) {
      return googleError(parent.refusal.code, parent.refusal.message);
    }
    const filter = (query.get('filter') ?? '').trim();
    const wanted = /^state\s*[:=]\s*(\w+)$/.exec(filter)?.[1];
    if (filter !== '' && wanted === undefined) {
      return googleError(
        GoogleStatus.InvalidArgument,
        `The fleetplane emulator filters versions only by state: ${filter}`,
      );
    }
    // Newest first, as Secret Manager lists them.
    const all = parent.value.versions.filter((v) => wanted === undefined || v.state === wanted).toReversed();
    const size = Math.min(Number(query.get('pageSize') ?? 0) || 25_000, 25_000);
    const offset = tokenOffset(query.get('pageToken'), 'plain');
    if (offset === undefined) {
      return googleError(GoogleStatus.InvalidArgument, 'The page token is not valid.');
    }
    return json(200, {
      versions: all.slice(offset, offset + size).map((v) => versionJson(secretPath, v, asInt)),
      totalSize: all.length,
      ...(offset + size < all.length ? { nextPageToken: String(offset + size) } : {}),
    });
  }

  const emulator = await startEmulator({
    name: 'gcp-secret-manager',
    clock,
    faults: googleFaults(
      "Quota exceeded for quota metric 'Access requests' and limit 'Access requests per minute per project' of service 'secretmanager.googleapis.com'.",
    ),
    operationOf: (request) => secretRouteOf(request)?.operation,
    handle,
    ...(options.port === undefined ? {} : { port: options.port }),
  });

  const must = <T>(outcome: Outcome<T>): T => {
    if (!outcome.ok) {
      throw new Error(outcome.refusal.message);
    }
    return outcome.value;
  };
  return {
    emulator,
    createSecret(project, id, value) {
      const name = must(store.create(`projects/${project}/secrets/${id}`)).name;
      if (value !== undefined) {
        must(store.add(name, Buffer.from(value), undefined));
      }
      return name;
    },
    addVersion: (project, id, value) =>
      must(store.add(`projects/${project}/secrets/${id}`, Buffer.from(value), undefined)).number,
    versions: (project, id) =>
      must(store.secret(`projects/${project}/secrets/${id}`)).versions.map((v) => ({
        version: v.number,
        state: v.state,
        value: v.data?.toString('utf8'),
      })),
    versionAliases: (project, id) =>
      Object.fromEntries(must(store.secret(`projects/${project}/secrets/${id}`)).versionAliases),
    currentValue: (project, id) => store.currentValueAt(`projects/${project}/secrets/${id}`, clock()),
    currentValueAt: (project, id, at) => store.currentValueAt(`projects/${project}/secrets/${id}`, at),
  };
}

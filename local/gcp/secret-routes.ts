import type { EmulatorRequest } from '../http/emulator.ts';

/**
 * Secret Manager v1 paths, named by the API's method names (for fault rules and the request log). Custom verbs
 * (`:addVersion`, `:access`, `:disable`) arrive with a literal colon. `updateSecret` is `PATCH` on the secret
 * (`secrets.patch`, service.proto's UpdateSecret binding).
 */

export type SecretOperation =
  | 'createSecret'
  | 'getSecret'
  | 'updateSecret'
  | 'addSecretVersion'
  | 'listSecretVersions'
  | 'getSecretVersion'
  | 'accessSecretVersion'
  | 'disableSecretVersion'
  | 'enableSecretVersion'
  | 'destroySecretVersion';

export interface SecretRoute {
  readonly operation: SecretOperation;
  /** `projects/p` for createSecret, else `projects/p/secrets/s`. */
  readonly path: string;
  /** A version number, `latest` or an alias; empty when the route names none. */
  readonly version: string;
}

const SECRETS = /^\/v1\/(projects\/[^/]+)\/secrets$/;
const SECRET = /^\/v1\/(projects\/[^/]+\/secrets\/[^/:]+)(:addVersion|\/versions)?$/;
const VERSION = /^\/v1\/(projects\/[^/]+\/secrets\/[^/:]+)\/versions\/([^/:]+)(?::(access|disable|enable|destroy))?$/;

const VERSION_VERBS = {
  access: 'accessSecretVersion',
  disable: 'disableSecretVersion',
  enable: 'enableSecretVersion',
  destroy: 'destroySecretVersion',
} as const;

export function secretRouteOf(request: EmulatorRequest): SecretRoute | undefined {
  const { method, path } = request;
  const route = (operation: SecretOperation, expected: string, at: string | undefined, version = '') =>
    method === expected && at !== undefined ? { operation, path: at, version } : undefined;

  const secrets = SECRETS.exec(path);
  if (secrets !== null) {
    return route('createSecret', 'POST', secrets[1]);
  }
  const version = VERSION.exec(path);
  if (version !== null) {
    const verb = version[3];
    if (verb === undefined) {
      return route('getSecretVersion', 'GET', version[1], version[2]);
    }
    const operation =
      verb === 'access' || verb === 'disable' || verb === 'enable' ? VERSION_VERBS[verb] : VERSION_VERBS.destroy;
    return route(operation, verb === 'access' ? 'GET' : 'POST', version[1], version[2]);
  }
  const secret = SECRET.exec(path);
  if (secret === null) {
    return undefined;
  }
  if (secret[2] === ':addVersion') {
    return route('addSecretVersion', 'POST', secret[1]);
  }
  if (secret[2] === '/versions') {
    return route('listSecretVersions', 'GET', secret[1]);
  }
  return method === 'PATCH' ? route('updateSecret', 'PATCH', secret[1]) : route('getSecret', 'GET', secret[1]);
}

import { SecretValue } from '../config/secret.ts';
import type { FleetplaneConfig } from '../config/types.ts';
import { executorTokenFrom, type RandomBytes } from '../domain/executor-token.ts';
import { toError } from '../domain/guards.ts';
import type { CallOptions } from '../ports/call-options.ts';
import type { ExecutorAuthCheck } from '../ports/executor-auth.ts';
import type { ExecutorSecretStore, SecretVersion } from '../ports/executor-secret.ts';
import type { Logger } from '../ports/logger.ts';
import { SiteConfigConflictError, SiteConfigReadOnlyError, type SiteConfigStore } from '../ports/site-config.ts';
import { type FleetRoll, type FleetRollDeps, membersNow, rollFleets, rollUnderWay, watchRolls } from './fleet-roll.ts';
import type { RotationTelemetry } from './rotation-outcome.ts';

export interface RotationDeps {
  readonly secret: ExecutorSecretStore;
  readonly siteConfig: SiteConfigStore;
  readonly executorAuth: ExecutorAuthCheck;
  /** The site config text with only `executors.accessToken` changed (comments, layout and other secrets kept). */
  readonly withExecutorToken: (contents: string, token: string) => string;
  /** A cryptographic source (`crypto.getRandomValues`). */
  readonly randomBytes: RandomBytes;
  /** A fresh rotation id (a UUID): what Secrets Manager would pass as `ClientRequestToken`. */
  readonly newRotationId: () => string;
  readonly logger: Logger;
  /** The fleets rolled once the token is current, so every instance boots with it; absent: none are. */
  readonly rolls?: Omit<FleetRollDeps, 'logger'>;
}

/** What a composition root builds for rotating: the config it read, the dependencies, and the token length set. */
export interface RotationRuntime {
  readonly config: FleetplaneConfig;
  readonly deps: RotationDeps;
  readonly tokenLength: number;
  /** Where outcomes are published (a deployed function); absent: only logged (the CLI). */
  readonly telemetry?: RotationTelemetry;
}

/** The protocol's steps, named as Secrets Manager names them. */
export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';

export interface RotationOptions extends CallOptions {
  /** Characters in a new token (at least 20, Sourcegraph's minimum). */
  readonly tokenLength?: number;
  /** Times an edit is read again and reapplied after someone else edited the site configuration meanwhile. */
  readonly maxConflicts?: number;
  /** Epoch ms to follow the fleets' rolls until; absent: they are started and not waited for. */
  readonly rollUntil?: number;
  /** Milliseconds between reads of the rolls' progress. Default 15 s. */
  readonly rollPollMs?: number;
}

export interface RotationReport {
  readonly rotation: string;
  /** What each step found: `done` (it acted) or `already-done` (a run before this one had, e.g. before a crash). */
  readonly steps: readonly { readonly step: RotationStep; readonly outcome: 'done' | 'already-done' }[];
  /** Sourcegraph said part of the new site configuration needs a restart. */
  readonly restartRequired: boolean;
  /** Epoch ms Sourcegraph switched to the new token, when this run did it (not an earlier, killed one). */
  readonly switchedAt?: number;
  /** Each rolled fleet's roll, as last seen. */
  readonly rolls: readonly FleetRoll[];
}

/** A step could not complete; nothing after it ran. The message never carries a token. */
export class RotationError extends Error {
  override readonly name: string = 'RotationError';
  readonly step: RotationStep;
  /** Running the rotation again (same id) may get past this. */
  readonly retryable: boolean;

  constructor(step: RotationStep, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(`${step}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.step = step;
    this.retryable = options.retryable ?? false;
  }
}

/** Another rotation holds the pending version: this one stops before touching Sourcegraph, or at once. */
export class RotationInProgressError extends RotationError {
  override readonly name = 'RotationInProgressError';
  readonly other: string;

  constructor(step: RotationStep, other: string) {
    super(step, `rotation ${other} is under way; run it to its end (same id) or wait for it`);
    this.other = other;
  }
}

const DEFAULT_MAX_CONFLICTS = 5;
const DEFAULT_ROLL_POLL_MS = 15_000;

/**
 * Rotates the executors' shared secret: a new token is stored as pending before Sourcegraph sees it, written into
 * the site configuration, checked, then made current. Every step first looks whether a run before it got that far, so
 * a rotation killed at any point completes when run again with the same id; without an id, the rotation under way
 * (if any) is the one resumed. At no moment does Sourcegraph hold a token that no version of the secret holds.
 */
export async function rotateExecutorSecret(
  deps: RotationDeps,
  request: { readonly rotation?: string },
  options: RotationOptions = {},
): Promise<RotationReport> {
  const rotation = request.rotation ?? (await deps.secret.pendingRotation(options)) ?? deps.newRotationId();
  const log = deps.logger.child({ module: 'rotation', rotation });
  const steps: { step: RotationStep; outcome: 'done' | 'already-done' }[] = [];
  const run = async <T extends { outcome: 'done' | 'already-done' }>(step: RotationStep, body: () => Promise<T>) => {
    const result = await body();
    steps.push({ step, outcome: result.outcome });
    log.info('rotation step', { step, outcome: result.outcome });
    return result;
  };
  await run('createSecret', () => createSecret(deps, rotation, options));
  const set = await run('setSecret', () => setSecret(deps, rotation, options));
  const switchedAt = set.outcome === 'done' ? deps.rolls?.clock() : undefined;
  await run('testSecret', () => testSecret(deps, rotation, options));
  await run('finishSecret', () => finishSecret(deps, rotation, options));
  const rollDeps = deps.rolls === undefined ? undefined : { ...deps.rolls, logger: deps.logger };
  // Read before any roll starts: these instances booted with the old token, and are refused until they are gone.
  const oldMembers =
    rollDeps === undefined || switchedAt === undefined || options.rollUntil === undefined
      ? undefined
      : await membersNow(rollDeps, options);
  const rolls = await startRolls(deps, rotation, options);
  const watched =
    rollDeps === undefined || options.rollUntil === undefined
      ? rolls
      : await watchRolls(rollDeps, rolls, {
          until: options.rollUntil,
          pollMs: options.rollPollMs ?? DEFAULT_ROLL_POLL_MS,
          ...(switchedAt === undefined ? {} : { switchedAt }),
          ...(oldMembers === undefined ? {} : { oldMembers }),
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        });
  return {
    rotation,
    steps,
    restartRequired: set.restartRequired,
    ...(switchedAt === undefined ? {} : { switchedAt }),
    rolls: watched,
  };
}

/**
 * Rolls every fleet so its instances boot with the now-current token. A refresh that started after the token was
 * staged is taken as this rotation's, where the cloud keeps no name for it (a run killed after starting it).
 */
export async function startRolls(
  deps: RotationDeps,
  rotation: string,
  options: CallOptions = {},
): Promise<FleetRoll[]> {
  if (deps.rolls === undefined || deps.rolls.fleets.length === 0) {
    return [];
  }
  const staged = await storeCall('finishSecret', () => deps.secret.staged(rotation, options));
  const notBefore = staged?.createdAt;
  return rollFleets(
    { ...deps.rolls, logger: deps.logger },
    { rotation, ...(notBefore === undefined ? {} : { notBefore }) },
    options,
  );
}

/** Stores a new token as the rotation's pending version, unless the rotation stored one already. */
export async function createSecret(
  deps: RotationDeps,
  rotation: string,
  options: RotationOptions = {},
): Promise<{ outcome: 'done' | 'already-done' }> {
  const step = 'createSecret';
  const staged = await storeCall(step, () => deps.secret.staged(rotation, options));
  if (staged !== undefined) {
    return { outcome: 'already-done' };
  }
  await ownsPending(deps, step, rotation, options, { allowNone: true });
  await noRollUnderWay(deps, step, options);
  const token = new SecretValue(executorTokenFrom(deps.randomBytes, options.tokenLength));
  await storeCall(step, () => deps.secret.stage(rotation, token, options));
  // Two rotations staging at once: the later one holds the pending version, the earlier one stops here.
  await ownsPending(deps, step, rotation, options);
  return { outcome: 'done' };
}

/**
 * Writes the rotation's token into the site configuration, changing nothing else. An edit made by someone else
 * meanwhile is read again and the change reapplied, a bounded number of times.
 */
export async function setSecret(
  deps: RotationDeps,
  rotation: string,
  options: RotationOptions = {},
): Promise<{ outcome: 'done' | 'already-done'; restartRequired: boolean }> {
  const step = 'setSecret';
  const token = await stagedToken(deps, step, rotation, options);
  if ((await authCheck(deps, step, token, options)) === 'accepted') {
    return { outcome: 'already-done', restartRequired: false };
  }
  const attempts = (options.maxConflicts ?? DEFAULT_MAX_CONFLICTS) + 1;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    await ownsPending(deps, step, rotation, options);
    const current = await sourcegraphCall(step, () => deps.siteConfig.read(options));
    let edited: string;
    try {
      edited = deps.withExecutorToken(current.contents, token.value.reveal());
    } catch (caught) {
      throw new RotationError(step, `the site configuration cannot be edited: ${toError(caught).message}`, {
        cause: caught,
      });
    }
    try {
      const written = await deps.siteConfig.update(current.id, edited, options);
      return { outcome: 'done', restartRequired: written.restartRequired };
    } catch (caught) {
      if (caught instanceof SiteConfigReadOnlyError) {
        throw new RotationError(
          step,
          'the site configuration is managed by a file (SITE_CONFIG_FILE): set executors.accessToken there, ' +
            'or allow edits (SITE_CONFIG_ALLOW_EDITS=true); nothing was changed in Sourcegraph',
          { cause: caught },
        );
      }
      if (!(caught instanceof SiteConfigConflictError)) {
        throw new RotationError(step, `updating the site configuration failed: ${toError(caught).message}`, {
          cause: caught,
          retryable: true,
        });
      }
      // A retried write whose answer was lost also ends here: it may be in place already.
      if ((await authCheck(deps, step, token, options)) === 'accepted') {
        return { outcome: 'done', restartRequired: false };
      }
    }
  }
  throw new RotationError(step, `the site configuration kept changing under us (${attempts} attempts); run again`, {
    retryable: true,
  });
}

/** Sourcegraph accepts the new token, and no longer the one executors run with now. */
export async function testSecret(
  deps: RotationDeps,
  rotation: string,
  options: RotationOptions = {},
): Promise<{ outcome: 'done' | 'already-done' }> {
  const step = 'testSecret';
  const token = await stagedToken(deps, step, rotation, options);
  if ((await authCheck(deps, step, token, options)) !== 'accepted') {
    await ownsPending(deps, step, rotation, options, { allowNone: true });
    throw new RotationError(step, 'Sourcegraph does not accept the new token', { retryable: true });
  }
  const current = await storeCall(step, () => deps.secret.current(options));
  if (current !== undefined && current.versionId !== token.versionId) {
    const old = await authCheck(deps, step, current, options);
    if (old === 'accepted') {
      throw new RotationError(step, 'Sourcegraph still accepts the old token', { retryable: true });
    }
  }
  return { outcome: 'done' };
}

/** Makes the rotation's token the current version: what executors boot with from now on. */
export async function finishSecret(
  deps: RotationDeps,
  rotation: string,
  options: RotationOptions = {},
): Promise<{ outcome: 'done' | 'already-done' }> {
  const step = 'finishSecret';
  const token = await stagedToken(deps, step, rotation, options);
  const current = await storeCall(step, () => deps.secret.current(options));
  const pending = await storeCall(step, () => deps.secret.pendingRotation(options));
  if (current?.versionId === token.versionId && pending !== rotation) {
    return { outcome: 'already-done' };
  }
  await storeCall(step, () => deps.secret.promote(rotation, options));
  return { outcome: 'done' };
}

async function stagedToken(
  deps: RotationDeps,
  step: RotationStep,
  rotation: string,
  options: CallOptions,
): Promise<SecretVersion> {
  const staged = await storeCall(step, () => deps.secret.staged(rotation, options));
  if (staged === undefined) {
    throw new RotationError(step, `rotation ${rotation} stored no token (its createSecret step has not run)`);
  }
  return staged;
}

/** Refuses to go on when another rotation holds the pending version. */
async function ownsPending(
  deps: RotationDeps,
  step: RotationStep,
  rotation: string,
  options: CallOptions,
  { allowNone = false } = {},
): Promise<void> {
  const pending = await storeCall(step, () => deps.secret.pendingRotation(options));
  if (pending !== undefined && pending !== rotation) {
    throw new RotationInProgressError(step, pending);
  }
  if (pending === undefined && !allowNone) {
    // Promoted already (by a run of this rotation that got further), or never staged: nothing to write.
    const current = await storeCall(step, () => deps.secret.current(options));
    const staged = await storeCall(step, () => deps.secret.staged(rotation, options));
    if (current === undefined || staged === undefined || current.versionId !== staged.versionId) {
      throw new RotationError(step, `rotation ${rotation} is not the pending one in the secret store`);
    }
  }
}

/** A new token switched to while a fleet rolls would strand the instances that roll launches with the old one. */
async function noRollUnderWay(deps: RotationDeps, step: RotationStep, options: CallOptions): Promise<void> {
  if (deps.rolls === undefined) {
    return;
  }
  let underWay: Awaited<ReturnType<typeof rollUnderWay>>;
  try {
    underWay = await rollUnderWay({ ...deps.rolls, logger: deps.logger }, options);
  } catch (caught) {
    throw new RotationError(step, `cannot tell whether a fleet is being rolled: ${toError(caught).message}`, {
      cause: caught,
      retryable: true,
    });
  }
  if (underWay !== undefined) {
    const { fleet, roll } = underWay;
    throw new RotationError(
      step,
      `fleet ${fleet} is still being rolled (${roll.id}, ${roll.remaining} instances to go); ` +
        'start a new rotation once it ends, or the instances it launches keep the token this one replaces',
      { retryable: true },
    );
  }
}

async function authCheck(deps: RotationDeps, step: RotationStep, version: SecretVersion, options: CallOptions) {
  try {
    return await deps.executorAuth.check(version.value, options);
  } catch (caught) {
    throw new RotationError(step, `checking a token with Sourcegraph failed: ${toError(caught).message}`, {
      cause: caught,
      retryable: true,
    });
  }
}

async function storeCall<T>(step: RotationStep, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (caught) {
    throw new RotationError(step, `the secret store failed: ${toError(caught).message}`, {
      cause: caught,
      retryable: true,
    });
  }
}

async function sourcegraphCall<T>(step: RotationStep, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (caught) {
    throw new RotationError(step, `reading the site configuration failed: ${toError(caught).message}`, {
      cause: caught,
      retryable: true,
    });
  }
}

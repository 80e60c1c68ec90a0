import type { Env } from '../config/types.ts';
import type { Logger } from '../ports/logger.ts';
import { createJsonLogger, LOG_LEVELS, type LogLevel } from './logger.ts';

export interface FunctionLogger {
  readonly logger: Logger;
  /** Every secret value read at run time goes here, and is scrubbed from every line from then on. */
  readonly secrets: Set<string>;
}

/**
 * The logger a function's composition root starts with: JSON lines, level from `FLEETPLANE_LOG_LEVEL`, on stdout
 * (where both platforms collect them), or on stderr with `FLEETPLANE_LOG_STREAM=stderr` (a CLI whose stdout is its
 * report).
 */
export function createFunctionLogger(env: Env, name: string): FunctionLogger {
  const secrets = new Set<string>();
  const logger = createJsonLogger({
    level: logLevelOf(env),
    bindings: { service: 'fleetplane', function: name },
    secrets: () => [...secrets],
    ...(env.FLEETPLANE_LOG_STREAM === 'stderr' ? { write: (line: string) => process.stderr.write(`${line}\n`) } : {}),
  });
  return { logger, secrets };
}

/** `FLEETPLANE_LOG_LEVEL`, or `info` when it is unset or names no level. */
export function logLevelOf(env: Env): LogLevel {
  const requested = env.FLEETPLANE_LOG_LEVEL;
  return LOG_LEVELS.find((candidate) => candidate === requested) ?? 'info';
}

import type { LogContext, Logger } from '../ports/logger.ts';
import { correlationFields, currentCorrelation } from './correlation.ts';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Cloud Logging reads `severity`; CloudWatch and humans read `level`. Both are written so one format serves both. */
const SEVERITY: Readonly<Record<LogLevel, string>> = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR' };

/** Keys whose values are secrets wherever they appear in a log context. */
const SECRET_KEY = /token|secret|password|authorization|credential|api[-_]?key/i;
export const REDACTED = '[redacted]';

export interface JsonLoggerOptions {
  readonly level?: LogLevel;
  readonly bindings?: LogContext;
  /** Receives one serialized JSON line per entry. */
  readonly write?: (line: string) => void;
  readonly clock?: () => number;
  /** Secret values scrubbed from every string in every entry, even under innocent keys or inside error messages. */
  readonly secrets?: () => readonly string[];
}

export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'info');
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const clock = options.clock ?? Date.now;
  const secrets = options.secrets ?? (() => []);

  return loggerOver((level, message, context) => {
    if (LOG_LEVELS.indexOf(level) < threshold) {
      return;
    }
    const entry = {
      level,
      severity: SEVERITY[level],
      time: new Date(clock()).toISOString(),
      message,
      ...correlationFields(currentCorrelation()),
      ...context,
    };
    write(
      JSON.stringify(
        sanitize(
          entry,
          secrets().filter((s) => s.length > 0),
        ),
      ),
    );
  }, options.bindings);
}

/**
 * The `Logger` port over one function that writes an entry: each level calls it, and a child's bindings are merged
 * under each entry's own context.
 */
export function loggerOver(
  write: (level: LogLevel, message: string, context: LogContext) => void,
  bindings: LogContext = {},
): Logger {
  const log =
    (level: LogLevel) =>
    (message: string, context: LogContext = {}) =>
      write(level, message, { ...bindings, ...context });
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (more) => loggerOver(write, { ...bindings, ...more }),
  };
}

/** A logger that drops everything: for callers that do not care, never for production paths. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};

/** Copies a value for logging: errors become plain objects with their cause chain, secrets become `[redacted]`. */
export function sanitize(value: unknown, secrets: readonly string[] = [], depth = 0): unknown {
  if (depth > 8) {
    return '[too deep]';
  }
  if (typeof value === 'string') {
    return scrub(value, secrets);
  }
  if (value instanceof Error) {
    return sanitize(describeError(value), secrets, depth + 1);
  }
  if (Array.isArray(value)) {
    return value.map((item) => sanitize(item, secrets, depth + 1));
  }
  if (value instanceof Map) {
    return sanitize(Object.fromEntries(value), secrets, depth + 1);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        SECRET_KEY.test(key) && item !== undefined && item !== null && typeof item !== 'boolean'
          ? REDACTED
          : sanitize(item, secrets, depth + 1),
      ]),
    );
  }
  if (typeof value === 'bigint') {
    return value.toString();
  }
  return value;
}

function scrub(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    result = result.split(secret).join(REDACTED);
  }
  return result;
}

function describeError(error: Error): Record<string, unknown> {
  const described: Record<string, unknown> = { name: error.name, message: error.message };
  for (const [key, item] of Object.entries(error)) {
    if (key !== 'cause' && key !== 'stack' && key !== '$response') {
      described[key] = item;
    }
  }
  if (error.cause !== undefined) {
    described.cause = error.cause instanceof Error ? describeError(error.cause) : String(error.cause);
  }
  return described;
}

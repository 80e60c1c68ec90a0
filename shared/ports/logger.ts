export type LogContext = Readonly<Record<string, unknown>>;

/** Structured logging: the message is fixed text, the data goes in the context object. */
export interface Logger {
  debug(message: string, context?: LogContext): void;
  info(message: string, context?: LogContext): void;
  warn(message: string, context?: LogContext): void;
  error(message: string, context?: LogContext): void;
  /** A logger whose every line also carries `bindings` (e.g. `{ module: 'sourcegraph' }`). */
  child(bindings: LogContext): Logger;
}

/** What most components need: they log, they do not create loggers. */
export type NarrowLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

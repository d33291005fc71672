import { pino, type Logger, type DestinationStream } from 'pino';
import { traceLogFields } from './tracing/context.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Component name, written as `name` on every line (agent, collector, sim). */
  name: string;
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream to inspect what was logged. */
  destination?: DestinationStream;
  /** Fields added to every line (gateway id, device id). */
  base?: Record<string, unknown>;
}

/**
 * JSON lines, one per event, ISO timestamps, level as text: what log shippers
 * (journald, Loki, Elastic) parse without configuration.
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? process.env.MEDTEL_LOG_LEVEL ?? 'info';
  return pino(
    {
      name: options.name,
      level,
      base: { pid: process.pid, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // trace_id/span_id while a sampled span is active; nothing (and no SDK) with tracing off.
      mixin: traceLogFields,
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export interface LoggerSettings {
  level?: string;
  /** 'json' in pods and pipes, 'pretty' on a terminal; 'auto' picks by whether stderr is a TTY. */
  format?: 'json' | 'pretty' | 'auto';
  name?: string;
}

/**
 * Structured logger. JSON lines on stderr (pods, CI, pipes); readable text when stderr is a terminal.
 * Level from the argument, else PLEXUS_LOG_LEVEL, else info.
 */
export function createLogger(settings: LoggerSettings = {}): Logger {
  const level = settings.level ?? process.env.PLEXUS_LOG_LEVEL ?? 'info';
  const format = settings.format ?? (process.env.PLEXUS_LOG_FORMAT as LoggerSettings['format']) ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && process.stderr.isTTY === true);
  const options: LoggerOptions = { level, base: settings.name ? { name: settings.name } : {} };
  if (pretty) {
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { destination: 2, colorize: true, ignore: 'pid,hostname' },
      },
    });
  }
  return pino(options, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything: for library calls and tests that do not care about logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

// The process logger (pino). Actors and requests get children of it; secrets are redacted by path.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level: string; nodeId?: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: options.nodeId ? { node: options.nodeId } : {},
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.pin', '*.token', '*.refreshToken', '*.accessToken', '*.secretAccessKey'],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}

/** A logger that drops everything: for unit tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

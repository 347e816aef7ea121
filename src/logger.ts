/**
 * The root pino logger: JSON lines on stdout, ready for CloudWatch. Created once in main
 * and passed down; request handlers log through per-request children.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Secrets never reach the logs: the places they could ride on a log object. Explicit
 * paths only — wildcard paths cost a scan of every logged object, on every request.
 */
export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'headers["x-admin-token"]',
  'req.headers["x-admin-token"]',
  'adminToken',
  'ADMIN_TOKEN',
  'config.ADMIN_TOKEN',
  'token',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'churn-gateway' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

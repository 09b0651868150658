/** The backend's structured logger (pino). Secrets are redacted by path in case one is ever passed in. */
import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';

export const REDACTED_PATHS = [
  'token',
  'accessToken',
  'access_token',
  'encryptionKey',
  'apiKey',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.encryptionKey',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'oracle-call-backend' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);
}

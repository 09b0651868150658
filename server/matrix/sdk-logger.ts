/**
 * matrix-js-sdk's logger, written to the backend's pino log: warnings and errors only, as one string
 * per line (the SDK logs free text). The SDK sends tokens in headers, never in what it logs; the
 * Rust crypto's own tracing (which prints key IDs at debug level) is turned off where crypto starts.
 */
import { format } from 'node:util';
import { logger as globalSdkLogger } from 'matrix-js-sdk/lib/logger.js';
import type { Logger as SdkLogger } from 'matrix-js-sdk/lib/logger.js';
import type { Logger } from 'pino';

// Parts of the SDK log through its global logger (a loglevel logger, to the console) instead of the
// client's: the parts the backend does not use (MatrixRTC, push rules), which report routine things at
// warn and error level ("Got room state event for unknown room" as a room is joined). It is silenced;
// the client's own logger above carries what matters. Child loggers copy their parent's method factory
// when they are made (as each client is), so they are silent too.
const root = globalSdkLogger as unknown as { methodFactory: unknown; rebuild(): void };
root.methodFactory = () => () => {};
root.rebuild();

export function sdkLogger(log: Logger, namespace = 'matrix-js-sdk'): SdkLogger {
  const ignore = () => {};
  return {
    trace: ignore,
    debug: ignore,
    info: ignore,
    warn: (...msg: unknown[]) => log.warn({ source: namespace }, format(...msg)),
    error: (...msg: unknown[]) => log.error({ source: namespace }, format(...msg)),
    getChild: (child: string) => sdkLogger(log, `${namespace} ${child}`),
  };
}

/**
 * matrix-js-sdk's logger, written to the backend's pino log: warnings and errors only, as one string
 * per line (the SDK logs free text). The SDK sends tokens in headers, never in what it logs.
 *
 * The Rust crypto (matrix-sdk-crypto-wasm 18) writes its tracing through this logger too, each event
 * as one string: `WARN matrix_sdk_crypto::olm::account: <message>`, then indented lines with the
 * event's fields and the spans it ran in, which carry key material (identity, base and one-time keys,
 * session IDs, senders). Only the first line is kept: what happened, without those.
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

/** The head of a Rust tracing event: its level and target (`matrix_sdk_crypto::olm::account`). */
const RUST_EVENT = /^(?:TRACE|DEBUG|INFO|WARN|ERROR) matrix_sdk\w*(?:::\w+)*: /;

/** One log line for what the SDK logged; of a Rust crypto event, its first line only (see above). */
export function sdkLogLine(...msg: unknown[]): string {
  const line = format(...msg);
  return RUST_EVENT.test(line) ? line.split('\n', 1)[0]! : line;
}

export function sdkLogger(log: Logger, namespace = 'matrix-js-sdk'): SdkLogger {
  const ignore = () => {};
  return {
    trace: ignore,
    debug: ignore,
    info: ignore,
    warn: (...msg: unknown[]) => log.warn({ source: namespace }, sdkLogLine(...msg)),
    error: (...msg: unknown[]) => log.error({ source: namespace }, sdkLogLine(...msg)),
    getChild: (child: string) => sdkLogger(log, `${namespace} ${child}`),
  };
}

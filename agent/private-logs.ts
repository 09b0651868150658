/**
 * What was said in a call stays out of the oracle's logs. The agents framework logs conversation text
 * under keys named `lk.pii.*` (`lk.pii.new_transcript`, `lk.pii.message` at info level, more at debug).
 * This wraps the framework's logger in the job process so those fields are dropped from every record,
 * unless the operator opted in with AGENT_LOG_CONVERSATION=true, and then only at debug and trace.
 *
 * The framework keeps its logger on a global (`Symbol.for('@livekit/agents:logger')`, see its
 * `log_core.js`) and reads it whenever a component is made, so replacing it before the voice session
 * starts covers the session, its activity and the plugins.
 */
import { log } from '@livekit/agents';
import type { Log } from './oracle-brain.ts';

const LOGGER_KEY = Symbol.for('@livekit/agents:logger');
const PII_PREFIX = 'lk.pii.';
const KEEP_LEVELS = new Set(['debug', 'trace']);
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const GUARDED = Symbol('pii-guarded');

/** The record without its `lk.pii.*` fields (the same object when it has none). */
export function withoutPii(record: unknown): unknown {
  if (typeof record !== 'object' || record === null || record instanceof Error) return record;
  const keys = Object.keys(record);
  if (!keys.some((key) => key.startsWith(PII_PREFIX))) return record;
  const kept: Record<string, unknown> = {};
  for (const key of keys) if (!key.startsWith(PII_PREFIX)) kept[key] = (record as Record<string, unknown>)[key];
  kept.redacted = 'conversation text';
  return kept;
}

/** A logger (and every child of it) that drops conversation text as described above. */
export function privateLogger(logger: Log, keepAtDebug: boolean): Log {
  if ((logger as unknown as Record<symbol, boolean>)[GUARDED]) return logger;
  return new Proxy(logger, {
    get(target, property, receiver) {
      if (property === GUARDED) return true;
      if (property === 'child') {
        return (...args: Parameters<Log['child']>) => privateLogger(target.child(...args) as unknown as Log, keepAtDebug);
      }
      if (typeof property === 'string' && (LEVELS as readonly string[]).includes(property)) {
        const method = (target as unknown as Record<string, (...args: unknown[]) => void>)[property]!;
        const keep = keepAtDebug && KEEP_LEVELS.has(property);
        return (first: unknown, ...rest: unknown[]) => method.call(target, keep ? first : withoutPii(first), ...rest);
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

/** Replaces the framework's logger in this (job) process with the private one. */
export function keepConversationsOutOfLogs(keepAtDebug: boolean): Log {
  const guarded = privateLogger(log(), keepAtDebug);
  (globalThis as unknown as Record<symbol, unknown>)[LOGGER_KEY] = guarded;
  return guarded;
}

/**
 * The position a page of `list` ends at: the (createdAt, callId) of its last call, as opaque base64url.
 * Every store cuts pages in the same order, newest first by (createdAt, callId), and reads the same cursor.
 */
import type { CallRecord } from './call-store.ts';

/** The form every createdAt takes (`Date.prototype.toISOString`): a cursor holding another was not given out. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function encodeCursor(record: CallRecord): string {
  return Buffer.from(JSON.stringify([record.createdAt, record.callId])).toString('base64url');
}

/** The (createdAt, callId) a cursor holds; undefined when it is not one a store gave out. */
export function decodeCursor(cursor: string): [string, string] | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string')) {
      const [createdAt, callId] = value as [string, string];
      if (ISO_TIME.test(createdAt) && Number.isFinite(Date.parse(createdAt))) return [createdAt, callId];
    }
  } catch {
    // fall through
  }
  return undefined;
}

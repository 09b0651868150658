/**
 * The position a page of `list` ends at: the (createdAt, callId) of its last call, as opaque base64url.
 * Every store cuts pages in the same order, newest first by (createdAt, callId), and reads the same cursor.
 */
import type { CallRecord } from './call-store.ts';

export function encodeCursor(record: CallRecord): string {
  return Buffer.from(JSON.stringify([record.createdAt, record.callId])).toString('base64url');
}

/** The (createdAt, callId) a cursor holds; undefined when it is not one a store gave out. */
export function decodeCursor(cursor: string): [string, string] | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string')) {
      return value as [string, string];
    }
  } catch {
    // fall through
  }
  return undefined;
}

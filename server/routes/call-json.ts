/**
 * Answers of the call routes as encoded JSON, made once and served again while they stay the same. The
 * store never edits a record in place: every change stores a new object. So the JSON of one record
 * object never goes stale, and a page made of the very same record objects is the very same bytes.
 */
import { publicCall } from '../call-service.ts';
import type { CallRecord, ListPage } from '../store/call-store.ts';

/** The Content-Type of these bodies, as Koa would set it for a JSON body (set as is, with no lookup). */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

const publicJson = new WeakMap<CallRecord, string>();

/** `publicCall(record)` as JSON, made once per stored version of a call. */
export function publicCallJson(record: CallRecord): string {
  let json = publicJson.get(record);
  if (json === undefined) {
    json = JSON.stringify(publicCall(record));
    publicJson.set(record, json);
  }
  return json;
}

/** `{"calls": [...], "nextCursor"?: "..."}` for a page of stored calls. */
export function pageJson(page: ListPage): string {
  const cursor = page.nextCursor === undefined ? '' : `,"nextCursor":${JSON.stringify(page.nextCursor)}`;
  return `{"calls":[${page.calls.map(publicCallJson).join(',')}]${cursor}}`;
}

/** The same records, in the same order, and the same next cursor. */
export function samePage(a: ListPage, b: ListPage): boolean {
  if (a.nextCursor !== b.nextCursor || a.calls.length !== b.calls.length) return false;
  for (let i = 0; i < a.calls.length; i += 1) if (a.calls[i] !== b.calls[i]) return false;
  return true;
}

const keyJson = new WeakMap<CallRecord, string>();

/** The agent's key answer for a call, `{encryptionKey, userDid, oracleDid, callType}`, made once per stored version. */
export function keyAnswerJson(record: CallRecord): string {
  let json = keyJson.get(record);
  if (json === undefined) {
    const { encryptionKey, userDid, oracleDid, callType } = record;
    json = JSON.stringify({ encryptionKey, userDid, oracleDid, callType });
    keyJson.set(record, json);
  }
  return json;
}

/**
 * The body last served for each key (a query, a call), served again while the answer is the same by
 * `same`; otherwise encoded anew. The key only picks what to compare with, so a body is never served
 * for an answer it does not encode. At most `limit` keys are remembered; the oldest goes first.
 */
export class EncodedBodies<T> {
  private readonly bodies = new Map<string, { readonly value: T; readonly body: string | Buffer }>();

  constructor(
    private readonly encode: (value: T) => string | Buffer,
    private readonly same: (a: T, b: T) => boolean,
    private readonly limit = 256,
  ) {}

  body(key: string, value: T): string | Buffer {
    const cached = this.bodies.get(key);
    if (cached !== undefined && this.same(cached.value, value)) return cached.body;
    const body = this.encode(value);
    if (cached === undefined && this.bodies.size >= this.limit) this.bodies.delete(this.bodies.keys().next().value!);
    this.bodies.set(key, { value, body });
    return body;
  }
}

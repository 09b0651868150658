/**
 * Answers of the call routes as encoded JSON, made once and served again while they stay the same. The
 * store never edits a record in place: every change stores a new object. So the JSON of one record
 * object never goes stale, and the store answers a query asked again with the very same page object
 * while the user's calls are unchanged, so a page object's bytes never go stale either.
 */
import { publicCall } from '../call-service.ts';
import type { CallRecord, ListPage } from '../store/call-store.ts';

/** The Content-Type of these bodies, as Koa would set it for a JSON body (set as is, with no lookup). */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** `make(object)`, made once per object and kept while the object lives. */
function perObject<K extends object, V>(make: (key: K) => V): (key: K) => V {
  const made = new WeakMap<K, V>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) {
      value = make(key);
      made.set(key, value);
    }
    return value;
  };
}

/** `publicCall(record)` as JSON. */
export const publicCallJson = perObject((record: CallRecord) => JSON.stringify(publicCall(record)));

/** `{"calls": [...], "nextCursor"?: "..."}` for a page of stored calls. */
export function pageJson(page: ListPage): string {
  const cursor = page.nextCursor === undefined ? '' : `,"nextCursor":${JSON.stringify(page.nextCursor)}`;
  return `{"calls":[${page.calls.map(publicCallJson).join(',')}]${cursor}}`;
}

/** {@link pageJson} as UTF-8 bytes (some 10 kB not encoded again per request). */
export const pageBody = perObject((page: ListPage) => Buffer.from(pageJson(page), 'utf8'));

/**
 * The agent's key answer, `{encryptionKey, userDid, oracleDid, callType}`. It stays a string: Node
 * sends a short string body in one piece with the headers.
 */
export const keyAnswerJson = perObject(({ encryptionKey, userDid, oracleDid, callType }: CallRecord) =>
  JSON.stringify({ encryptionKey, userDid, oracleDid, callType }),
);

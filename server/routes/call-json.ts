/**
 * Answers of the call routes as encoded JSON, made once and served again while they stay the same.
 * This is right by construction, not by care: the store hands out frozen records and pages and stores a
 * new object on every change (see `store/call-store.ts`), so the JSON kept for one record or page
 * object can never go stale; a change means a new object, hence new JSON. (Unit-tested in
 * `test/unit/call-json.test.ts`.)
 */
import type { CallListAnswer } from '../../protocol/api/index.ts';
import { keyAnswer, publicCall } from '../call-service.ts';
import type { CallRecord, ListPage } from '../store/call-store.ts';

/** The Content-Type of these bodies, as Koa would set it for a JSON body (set as is, with no lookup). */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** `make(object)`, made once per object and kept while the object lives; only for frozen objects. */
function perObject<K extends object, V>(make: (key: K) => V): (key: K) => V {
  const made = new WeakMap<K, V>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) {
      if (!Object.isFrozen(key)) throw new TypeError('an answer is cached only for a frozen object (one the store handed out)');
      value = make(key);
      made.set(key, value);
    }
    return value;
  };
}

/** `publicCall(record)` as JSON. */
export const publicCallJson = perObject((record: CallRecord) => JSON.stringify(publicCall(record)));

// The list answer is written out by hand for speed; its field names are typed against the answer's
// schema, so renaming one there breaks this file too.
const CALLS: keyof CallListAnswer = 'calls';
const NEXT_CURSOR: keyof CallListAnswer = 'nextCursor';

/** A page of stored calls as the list answer's JSON, the calls' JSON reused from {@link publicCallJson}. */
export function pageJson(page: ListPage): string {
  const cursor = page.nextCursor === undefined ? '' : `,"${NEXT_CURSOR}":${JSON.stringify(page.nextCursor)}`;
  return `{"${CALLS}":[${page.calls.map(publicCallJson).join(',')}]${cursor}}`;
}

/** {@link pageJson} as UTF-8 bytes (some 10 kB not encoded again per request). */
export const pageBody = perObject((page: ListPage) => Buffer.from(pageJson(page), 'utf8'));

/**
 * The agent's key answer (`KeyAnswer`). It stays a string: Node sends a short string body in one piece
 * with the headers.
 */
export const keyAnswerJson = perObject((record: CallRecord) => JSON.stringify(keyAnswer(record)));

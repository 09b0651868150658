/**
 * The JSON of calls as the API shows them, made once. The store never edits a record in place: every
 * change stores a new object. So the JSON of one record object never goes stale, and a page made of the
 * very same record objects (and the same next cursor) is the very same bytes.
 */
import { publicCall } from '../call-service.ts';
import type { CallRecord, ListPage } from '../store/call-store.ts';

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

interface CachedPage {
  readonly calls: readonly CallRecord[];
  readonly nextCursor: string | undefined;
  readonly body: Buffer;
}

function samePage(cached: CachedPage, page: ListPage): boolean {
  if (cached.nextCursor !== page.nextCursor || cached.calls.length !== page.calls.length) return false;
  for (let i = 0; i < page.calls.length; i += 1) if (cached.calls[i] !== page.calls[i]) return false;
  return true;
}

/**
 * The encoded body of the last page served for each query (user, filters, limit, cursor), served again
 * while the store still answers that query with the same record objects. At most `limit` queries are
 * remembered; the oldest one is dropped first.
 */
export class PageBodies {
  private readonly pages = new Map<string, CachedPage>();

  constructor(private readonly limit = 256) {}

  body(query: string, page: ListPage): Buffer {
    const cached = this.pages.get(query);
    if (cached !== undefined && samePage(cached, page)) return cached.body;
    const body = Buffer.from(pageJson(page), 'utf8');
    if (cached === undefined && this.pages.size >= this.limit) this.pages.delete(this.pages.keys().next().value!);
    this.pages.set(query, { calls: page.calls, nextCursor: page.nextCursor, body });
    return body;
  }
}

/**
 * The part of IndexedDB's API that the snapshot uses, as types. The backend is checked without the
 * DOM's types (server/tsconfig.json: Node's only), and TypeScript has IndexedDB's types only in the
 * DOM and web worker libraries; `fake-indexeddb` implements the real API, of which these are a subset.
 */
export type IdbValidKey = number | string | Date | BufferSource | IdbValidKey[];
type BufferSource = ArrayBufferView | ArrayBuffer;
export type IdbTransactionMode = 'readonly' | 'readwrite' | 'versionchange';
export interface IdbTransactionOptions {
  durability?: 'default' | 'strict' | 'relaxed';
}

/** An event handler property (`onsuccess`, ...): the snapshot's handlers take no event. */
type Handler = ((event: never) => unknown) | null;

interface IdbEventTarget {
  addEventListener(type: string, listener: () => void): void;
}

export interface IdbRequest<T> extends IdbEventTarget {
  readonly result: T;
  readonly error: Error | null;
  onsuccess: Handler;
  onerror: Handler;
}

export interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: Handler;
  onblocked: Handler;
}

export interface IdbIndex {
  readonly keyPath: string | string[];
  readonly unique: boolean;
  readonly multiEntry: boolean;
}

export interface IdbObjectStore {
  readonly keyPath: string | string[] | null;
  readonly autoIncrement: boolean;
  readonly indexNames: Iterable<string>;
  index(name: string): IdbIndex;
  createIndex(name: string, keyPath: string | string[], options?: { unique?: boolean; multiEntry?: boolean }): IdbIndex;
  getAllKeys(): IdbRequest<IdbValidKey[]>;
  getAll(): IdbRequest<unknown[]>;
  put(value: unknown, key?: IdbValidKey): IdbRequest<IdbValidKey>;
}

export interface IdbTransaction extends IdbEventTarget {
  readonly error: Error | null;
  oncomplete: Handler;
  onerror: Handler;
  onabort: Handler;
  objectStore(name: string): IdbObjectStore;
}

export interface IdbDatabase {
  readonly version: number;
  readonly objectStoreNames: Iterable<string>;
  transaction(names: string | string[], mode?: IdbTransactionMode, options?: IdbTransactionOptions): IdbTransaction;
  createObjectStore(name: string, options?: { keyPath?: string | string[] | null; autoIncrement?: boolean }): IdbObjectStore;
  close(): void;
}

export interface IdbFactory {
  open(name: string, version?: number): IdbOpenRequest;
  deleteDatabase(name: string): IdbOpenRequest;
  databases(): Promise<{ name?: string; version?: number }[]>;
}

/**
 * The Web APIs that both browsers and Node have, and the only platform APIs protocol/ uses. protocol/'s
 * own type check (protocol/tsconfig.json) sees neither the DOM nor Node's types, so a use of anything
 * one of them lacks does not compile; the other parts check protocol/ against their real platform.
 */
declare global {
  var crypto: { getRandomValues<T extends Uint8Array>(array: T): T };

  class TextEncoder {
    encode(input?: string): Uint8Array;
  }

  class TextDecoder {
    constructor(label?: string, options?: { fatal?: boolean });
    decode(input?: Uint8Array): string;
  }

  interface AbortSignal {
    readonly aborted: boolean;
    readonly reason: unknown;
    addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
    removeEventListener(type: 'abort', listener: () => void): void;
  }

  class DOMException extends Error {
    constructor(message?: string, name?: string);
  }

  function setTimeout(callback: () => void, ms?: number): unknown;
  function clearTimeout(timer: unknown): void;
}

export {};

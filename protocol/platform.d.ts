/**
 * The Web APIs that both browsers and Node have, and the only platform APIs protocol/ uses. protocol/'s
 * own type check (protocol/tsconfig.json) sees neither the DOM nor Node's types, so a use of anything
 * one of them lacks does not compile; the other parts check protocol/ against their real platform.
 */
declare global {
  var crypto: {
    getRandomValues<T extends Uint8Array>(array: T): T;
    /** Secure contexts only (browsers); the element's ECIES (ecies-web-crypto.ts) uses what is below. */
    readonly subtle: {
      importKey(format: 'raw', keyData: Uint8Array<ArrayBuffer>, algorithm: 'HKDF', extractable: false, keyUsages: ['deriveKey']): Promise<CryptoKey>;
      deriveKey(
        algorithm: { name: 'HKDF'; hash: 'SHA-256'; salt: Uint8Array<ArrayBuffer>; info: Uint8Array<ArrayBuffer> },
        baseKey: CryptoKey,
        derivedKeyType: { name: 'AES-GCM'; length: 256 },
        extractable: false,
        keyUsages: ['encrypt'],
      ): Promise<CryptoKey>;
      encrypt(algorithm: { name: 'AES-GCM'; iv: Uint8Array<ArrayBuffer> }, key: CryptoKey, data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer>;
    };
  };

  interface CryptoKey {
    readonly type: string;
  }

  class TextEncoder {
    encode(input?: string): Uint8Array<ArrayBuffer>;
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

  /** Base64 of a string of bytes (each char code 0 to 255): room names (call-id.ts). */
  function btoa(data: string): string;

  function setTimeout(callback: () => void, ms?: number): unknown;
  function clearTimeout(timer: unknown): void;
}

export {};

/**
 * The element's ECIES encryption of the call key: the same bytes as {@link encryptCallKey} (and
 * `eciesjs`), with HKDF-SHA256 and AES-256-GCM from WebCrypto instead of `@noble/hashes` and
 * `@noble/ciphers`, which keeps those out of the element's bundle (about 6 KB gzipped). WebCrypto is
 * asynchronous, hence a function of its own; the agent and the backend keep the synchronous one.
 * `crypto.subtle` exists in secure contexts only, as do the camera, the microphone and LiveKit's E2EE.
 */
import * as secp256k1 from '@noble/secp256k1';
import { base58 } from '@scure/base';
import { assertCallKey } from './call-key.ts';
import { NONCE_LENGTH, TAG_LENGTH, parsePublicKey } from './ecies.ts';

/** HKDF-SHA256(ephemeralPub ‖ sharedPoint), no salt (RFC 5869: a zero salt), no info, 32 bytes. */
async function deriveKey(ephemeralPublicKey: Uint8Array, sharedPoint: Uint8Array) {
  const material = new Uint8Array(ephemeralPublicKey.length + sharedPoint.length);
  material.set(ephemeralPublicKey);
  material.set(sharedPoint, ephemeralPublicKey.length);
  const hkdfKey = await crypto.subtle.importKey('raw', material, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new Uint8Array(0) },
    hkdfKey,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt'],
  );
}

/** ECIES-encrypts bytes to a secp256k1 public key: `ephemeralPub ‖ nonce ‖ tag ‖ ciphertext`, as `eciesEncrypt`. */
export async function eciesEncryptWithWebCrypto(receiverPublicKey: Uint8Array, plaintext: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const ephemeralSecret = secp256k1.utils.randomSecretKey();
  const ephemeralPublic = secp256k1.getPublicKey(ephemeralSecret, false);
  const sharedPoint = secp256k1.getSharedSecret(ephemeralSecret, receiverPublicKey, false);
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_LENGTH));
  const key = await deriveKey(ephemeralPublic, sharedPoint);
  // WebCrypto answers ciphertext ‖ tag (a 128-bit tag by default).
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce }, key, plaintext));
  const cut = sealed.length - TAG_LENGTH;
  const payload = new Uint8Array(ephemeralPublic.length + NONCE_LENGTH + sealed.length);
  payload.set(ephemeralPublic);
  payload.set(nonce, ephemeralPublic.length);
  payload.set(sealed.subarray(cut), ephemeralPublic.length + NONCE_LENGTH);
  payload.set(sealed.subarray(0, cut), ephemeralPublic.length + NONCE_LENGTH + TAG_LENGTH);
  return payload;
}

/** {@link encryptCallKey} with WebCrypto: the call key to the oracle's base58btc public key, as base58btc. */
export async function encryptCallKeyWithWebCrypto(callKey: string, oraclePublicKey: string): Promise<string> {
  assertCallKey(callKey);
  const receiver = parsePublicKey(oraclePublicKey);
  return base58.encode(await eciesEncryptWithWebCrypto(receiver, new TextEncoder().encode(callKey)));
}

/**
 * ECIES over secp256k1, byte-compatible with the `eciesjs` defaults:
 * ephemeral public key uncompressed (65 bytes), shared secret = HKDF-SHA256(ephemeralPub ‖ sharedPoint),
 * both uncompressed, no salt or info; AES-256-GCM with a 16-byte nonce;
 * layout `ephemeralPub ‖ nonce ‖ tag ‖ ciphertext`. Keys and ciphertexts travel as base58btc.
 * The curve is `@noble/secp256k1` (the same author's audited single-file secp256k1): ECIES needs its
 * points and ECDH only, and it is about 3 KB gzipped in the element against 13 KB for `@noble/curves`.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as secp256k1 from '@noble/secp256k1';
import { concatBytes, hexToBytes, bytesToHex } from '@noble/hashes/utils.js';
import { base58 } from '@scure/base';
import { assertCallKey } from './call-key.ts';
import { ProtocolError } from './errors.ts';

export const EPHEMERAL_KEY_LENGTH = 65;
export const NONCE_LENGTH = 16;
export const TAG_LENGTH = 16;
const PRIVATE_KEY_PATTERN = /^[0-9a-fA-F]{64}$/;
/** Base58 of anything this module reads is far shorter; refuse long input before decoding it. */
const MAX_BASE58_LENGTH = 1024;

export interface OracleKeyPair {
  /** 64 hex characters; stays with the agent. */
  readonly privateKey: string;
  /** base58btc of the compressed (33-byte) public key; published in the oracle's DID document and config. */
  readonly publicKey: string;
}

function decodeBase58(value: unknown, onError: (detail: string) => ProtocolError): Uint8Array {
  if (typeof value !== 'string' || value.length === 0) throw onError('expected a base58btc string');
  if (value.length > MAX_BASE58_LENGTH) throw onError('too long');
  try {
    return base58.decode(value);
  } catch {
    throw onError('not valid base58btc');
  }
}

/** Decodes and checks an oracle public key (base58btc, compressed or uncompressed secp256k1 point). */
export function parsePublicKey(publicKey: unknown): Uint8Array {
  const bytes = decodeBase58(publicKey, ProtocolError.invalidPublicKey);
  if (bytes.length !== 33 && bytes.length !== 65) {
    throw ProtocolError.invalidPublicKey(`expected 33 or 65 bytes, got ${bytes.length}`);
  }
  try {
    secp256k1.Point.fromBytes(bytes).assertValidity();
  } catch {
    throw ProtocolError.invalidPublicKey('not a point on secp256k1');
  }
  return bytes;
}

/** Decodes and checks an oracle private key (64 hex characters, a valid secp256k1 scalar). */
export function parsePrivateKey(privateKey: unknown): Uint8Array {
  if (typeof privateKey !== 'string' || !PRIVATE_KEY_PATTERN.test(privateKey.trim())) {
    throw ProtocolError.invalidPrivateKey('expected 64 hex characters');
  }
  const bytes = hexToBytes(privateKey.trim().toLowerCase());
  if (!secp256k1.utils.isValidSecretKey(bytes)) {
    throw ProtocolError.invalidPrivateKey('not a valid secp256k1 secret key');
  }
  return bytes;
}

export function generateOracleKeyPair(): OracleKeyPair {
  const { secretKey, publicKey } = secp256k1.keygen();
  return { privateKey: bytesToHex(secretKey), publicKey: base58.encode(publicKey) };
}

/** The base58btc public key that belongs to a private key. */
export function publicKeyFromPrivateKey(privateKey: string): string {
  return base58.encode(secp256k1.getPublicKey(parsePrivateKey(privateKey), true));
}

function deriveKey(ephemeralPublicKey: Uint8Array, sharedPoint: Uint8Array): Uint8Array {
  return hkdf(sha256, concatBytes(ephemeralPublicKey, sharedPoint), undefined, undefined, 32);
}

/** ECIES-encrypts bytes to a secp256k1 public key (raw bytes, compressed or not). */
export function eciesEncrypt(receiverPublicKey: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const ephemeralSecret = secp256k1.utils.randomSecretKey();
  const ephemeralPublic = secp256k1.getPublicKey(ephemeralSecret, false);
  const sharedPoint = secp256k1.getSharedSecret(ephemeralSecret, receiverPublicKey, false);
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_LENGTH));
  const sealed = gcm(deriveKey(ephemeralPublic, sharedPoint), nonce).encrypt(plaintext);
  const ciphertext = sealed.subarray(0, sealed.length - TAG_LENGTH);
  const tag = sealed.subarray(sealed.length - TAG_LENGTH);
  return concatBytes(ephemeralPublic, nonce, tag, ciphertext);
}

/** Reverses {@link eciesEncrypt}; throws `decryption_failed` for a wrong key or tampered data. */
export function eciesDecrypt(receiverPrivateKey: Uint8Array, payload: Uint8Array): Uint8Array {
  if (payload.length <= EPHEMERAL_KEY_LENGTH + NONCE_LENGTH + TAG_LENGTH) {
    throw ProtocolError.invalidCiphertext('too short');
  }
  const ephemeralPublic = payload.subarray(0, EPHEMERAL_KEY_LENGTH);
  const nonce = payload.subarray(EPHEMERAL_KEY_LENGTH, EPHEMERAL_KEY_LENGTH + NONCE_LENGTH);
  const tag = payload.subarray(EPHEMERAL_KEY_LENGTH + NONCE_LENGTH, EPHEMERAL_KEY_LENGTH + NONCE_LENGTH + TAG_LENGTH);
  const ciphertext = payload.subarray(EPHEMERAL_KEY_LENGTH + NONCE_LENGTH + TAG_LENGTH);
  let sharedPoint: Uint8Array;
  try {
    sharedPoint = secp256k1.getSharedSecret(receiverPrivateKey, ephemeralPublic, false);
  } catch (cause) {
    throw new ProtocolError('invalid_ciphertext', 'Invalid encrypted call key: bad ephemeral public key', { cause });
  }
  try {
    return gcm(deriveKey(ephemeralPublic, sharedPoint), nonce.slice()).decrypt(concatBytes(ciphertext, tag));
  } catch (cause) {
    throw ProtocolError.decryptionFailed(cause);
  }
}

/** Encrypts a call key to the oracle's base58btc public key; answers base58btc ciphertext. */
export function encryptCallKey(callKey: string, oraclePublicKey: string): string {
  assertCallKey(callKey);
  const receiver = parsePublicKey(oraclePublicKey);
  return base58.encode(eciesEncrypt(receiver, new TextEncoder().encode(callKey)));
}

/** Decrypts a base58btc ciphertext made by {@link encryptCallKey} (or by `eciesjs`) with the oracle's private key. */
export function decryptCallKey(encryptedKey: string, oraclePrivateKey: string): string {
  const payload = decodeBase58(encryptedKey, ProtocolError.invalidCiphertext);
  const plaintext = eciesDecrypt(parsePrivateKey(oraclePrivateKey), payload);
  let callKey: string;
  try {
    callKey = new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
  } catch (cause) {
    throw ProtocolError.decryptionFailed(cause);
  }
  if (!/^[0-9a-f]{64}$/.test(callKey)) throw ProtocolError.decryptionFailed();
  return callKey;
}

/** Checks the shape of an encrypted call key without decrypting it (the backend's check at sync). */
export function assertEncryptedCallKeyShape(encryptedKey: unknown): void {
  const payload = decodeBase58(encryptedKey, ProtocolError.invalidCiphertext);
  const expected = EPHEMERAL_KEY_LENGTH + NONCE_LENGTH + TAG_LENGTH + 64;
  if (payload.length !== expected) {
    throw ProtocolError.invalidCiphertext(`expected ${expected} bytes, got ${payload.length}`);
  }
  try {
    secp256k1.Point.fromBytes(payload.subarray(0, EPHEMERAL_KEY_LENGTH)).assertValidity();
  } catch {
    throw ProtocolError.invalidCiphertext('the ephemeral public key is not a point on secp256k1');
  }
}

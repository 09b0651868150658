/**
 * secp256k1 for ECDH only: the curve's points (`@noble/curves`' Weierstrass curve, SEC 2 §2.4.1
 * parameters) and its key agreement (`ecdh`: key pairs, shared points, key checks).
 *
 * Not `@noble/curves/secp256k1.js`: its `secp256k1` is the ECDSA signer, which brings SHA-256, HMAC,
 * DER and the signature code into the element although ECIES never signs (about 6 KB gzipped of the
 * element's bundle). The parameters are checked against that module's in the unit tests.
 */
import { ecdh, weierstrass } from '@noble/curves/abstract/weierstrass.js';

/** SEC 2 §2.4.1: y² = x³ + 7 over F_p, generator G of prime order n, cofactor 1. */
export const SECP256K1_CURVE = {
  p: BigInt('0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f'),
  n: BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'),
  h: BigInt(1),
  a: BigInt(0),
  b: BigInt(7),
  Gx: BigInt('0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'),
  Gy: BigInt('0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8'),
} as const;

/** Key pairs, public keys, shared points (`getSharedSecret`) and `Point` (decoding checks the point is on the curve). */
export const secp256k1 = /* @__PURE__ */ ecdh(/* @__PURE__ */ weierstrass(SECP256K1_CURVE));

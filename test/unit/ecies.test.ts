import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base58 } from '@scure/base';
import * as eciesjs from 'eciesjs';
import {
  assertEncryptedCallKeyShape,
  decryptCallKey,
  encryptCallKey,
  encryptCallKeyWithWebCrypto,
  generateCallKey,
  generateOracleKeyPair,
  parsePrivateKey,
  parsePublicKey,
  publicKeyFromPrivateKey,
} from '../../protocol/index.ts';

const utf8 = new TextEncoder();
const hexToBytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

describe('ECIES call key encryption', () => {
  it('round-trips a call key', () => {
    const oracle = generateOracleKeyPair();
    const callKey = generateCallKey();
    const encrypted = encryptCallKey(callKey, oracle.publicKey);
    assert.equal(decryptCallKey(encrypted, oracle.privateKey), callKey);
    assert.doesNotThrow(() => assertEncryptedCallKeyShape(encrypted));
  });

  it('never gives the same ciphertext twice for one key', () => {
    const oracle = generateOracleKeyPair();
    const callKey = generateCallKey();
    assert.notEqual(encryptCallKey(callKey, oracle.publicKey), encryptCallKey(callKey, oracle.publicKey));
  });

  it('has the eciesjs layout: 65-byte uncompressed ephemeral key, 16-byte nonce, 16-byte tag, 64-byte body', () => {
    const payload = base58.decode(encryptCallKey(generateCallKey(), generateOracleKeyPair().publicKey));
    assert.equal(payload.length, 65 + 16 + 16 + 64);
    assert.equal(payload[0], 0x04);
  });

  it('is decrypted by eciesjs itself', () => {
    const oracle = generateOracleKeyPair();
    const callKey = generateCallKey();
    const payload = base58.decode(encryptCallKey(callKey, oracle.publicKey));
    const plaintext = eciesjs.decrypt(hexToBytes(oracle.privateKey), payload);
    assert.equal(new TextDecoder().decode(plaintext), callKey);
  });

  it('decrypts what eciesjs encrypts, to a compressed or an uncompressed public key', () => {
    const secret = new eciesjs.PrivateKey();
    const privateKey = Buffer.from(secret.secret).toString('hex');
    for (const compressed of [true, false]) {
      const callKey = generateCallKey();
      const publicKey = base58.encode(secret.publicKey.toBytes(compressed));
      const payload = eciesjs.encrypt(secret.publicKey.toBytes(compressed), utf8.encode(callKey));
      assert.equal(decryptCallKey(base58.encode(payload), privateKey), callKey);
      assert.equal(decryptCallKey(encryptCallKey(callKey, publicKey), privateKey), callKey);
    }
  });

  it('derives the published public key from the private key', () => {
    const oracle = generateOracleKeyPair();
    assert.equal(publicKeyFromPrivateKey(oracle.privateKey), oracle.publicKey);
    assert.equal(parsePublicKey(oracle.publicKey).length, 33);
  });

  it('refuses the wrong private key', () => {
    const encrypted = encryptCallKey(generateCallKey(), generateOracleKeyPair().publicKey);
    assert.throws(() => decryptCallKey(encrypted, generateOracleKeyPair().privateKey), { reason: 'decryption_failed' });
  });

  it('refuses tampered ciphertext, wherever the change is', () => {
    const oracle = generateOracleKeyPair();
    const payload = base58.decode(encryptCallKey(generateCallKey(), oracle.publicKey));
    for (const index of [70, 65 + 16 + 3, payload.length - 1]) {
      const tampered = payload.slice();
      tampered[index]! ^= 0x01;
      assert.throws(() => decryptCallKey(base58.encode(tampered), oracle.privateKey), { reason: 'decryption_failed' }, `byte ${index}`);
    }
    const badPoint = payload.slice();
    badPoint[10]! ^= 0xff;
    assert.throws(
      () => decryptCallKey(base58.encode(badPoint), oracle.privateKey),
      (error: Error & { reason?: string }) => error.reason === 'invalid_ciphertext' || error.reason === 'decryption_failed',
    );
  });

  it('refuses a ciphertext that decrypts to something that is not a call key', () => {
    const oracle = generateOracleKeyPair();
    const payload = eciesjs.encrypt(parsePublicKey(oracle.publicKey), utf8.encode('not a call key'));
    assert.throws(() => decryptCallKey(base58.encode(payload), oracle.privateKey), { reason: 'decryption_failed' });
  });

  it('refuses malformed input with a clear reason', () => {
    const oracle = generateOracleKeyPair();
    assert.throws(() => decryptCallKey('', oracle.privateKey), { reason: 'invalid_ciphertext' });
    assert.throws(() => decryptCallKey('0OIl', oracle.privateKey), { reason: 'invalid_ciphertext' });
    assert.throws(() => decryptCallKey('abc', oracle.privateKey), { reason: 'invalid_ciphertext' });
    assert.throws(() => decryptCallKey('1'.repeat(5000), oracle.privateKey), { reason: 'invalid_ciphertext' });
    assert.throws(() => encryptCallKey('not hex', oracle.publicKey), { reason: 'invalid_call_key' });
    assert.throws(() => encryptCallKey(generateCallKey(), 'notbase58!'), { reason: 'invalid_public_key' });
    assert.throws(() => encryptCallKey(generateCallKey(), base58.encode(new Uint8Array(33).fill(7))), { reason: 'invalid_public_key' });
    assert.throws(() => encryptCallKey(generateCallKey(), base58.encode(new Uint8Array(20))), /33 or 65 bytes/);
    assert.throws(() => parsePrivateKey('00'.repeat(32)), { reason: 'invalid_private_key' });
    assert.throws(() => parsePrivateKey('zz'), { reason: 'invalid_private_key' });
    assert.throws(() => assertEncryptedCallKeyShape(base58.encode(new Uint8Array(161))), /ephemeral/);
    assert.throws(() => assertEncryptedCallKeyShape(base58.encode(new Uint8Array(100))), /161 bytes/);
  });

  it('derives the public key eciesjs derives from the same private key', () => {
    for (let i = 0; i < 3; i += 1) {
      const secret = new eciesjs.PrivateKey();
      assert.equal(publicKeyFromPrivateKey(Buffer.from(secret.secret).toString('hex')), base58.encode(secret.publicKey.toBytes(true)));
    }
  });
});

describe('ECIES call key encryption with WebCrypto (the element)', () => {
  it('gives what decryptCallKey and eciesjs decrypt, in the same layout, to a compressed or uncompressed key', async () => {
    const secret = new eciesjs.PrivateKey();
    const privateKey = Buffer.from(secret.secret).toString('hex');
    for (const compressed of [true, false]) {
      const callKey = generateCallKey();
      const encrypted = await encryptCallKeyWithWebCrypto(callKey, base58.encode(secret.publicKey.toBytes(compressed)));
      assert.equal(decryptCallKey(encrypted, privateKey), callKey);
      assert.equal(new TextDecoder().decode(eciesjs.decrypt(secret.secret, base58.decode(encrypted))), callKey);
      assert.doesNotThrow(() => assertEncryptedCallKeyShape(encrypted));
    }
  });

  it('never gives the same ciphertext twice, and refuses what encryptCallKey refuses', async () => {
    const oracle = generateOracleKeyPair();
    const callKey = generateCallKey();
    assert.notEqual(await encryptCallKeyWithWebCrypto(callKey, oracle.publicKey), await encryptCallKeyWithWebCrypto(callKey, oracle.publicKey));
    await assert.rejects(encryptCallKeyWithWebCrypto('not hex', oracle.publicKey), { reason: 'invalid_call_key' });
    await assert.rejects(encryptCallKeyWithWebCrypto(callKey, base58.encode(new Uint8Array(33).fill(7))), { reason: 'invalid_public_key' });
  });
});

/// <reference types="mocha" />
import { expect } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import {
  decryptCallKey,
  encryptCallKey,
  encryptCallKeyWithWebCrypto,
  generateCallKey,
  generateOracleKeyPair,
  generateRoomName,
  parseCallId,
  ROOM_NAME_PATTERN,
} from '../../protocol/index.ts';

interface KeyPair {
  privateKey: string;
  publicKey: string;
}

describe('protocol in Chromium', () => {
  it('runs in a real browser with WebCrypto', () => {
    expect(navigator.userAgent).to.match(/Chrome\//);
    expect(typeof crypto.getRandomValues).to.equal('function');
  });

  it('makes call keys that are 64 lowercase hex characters, each different', () => {
    const keys = Array.from({ length: 20 }, generateCallKey);
    for (const key of keys) expect(key).to.match(/^[0-9a-f]{64}$/);
    expect(new Set(keys).size).to.equal(20);
  });

  it('encrypts call keys that Node (eciesjs) decrypts', async () => {
    const oracle = await executeServerCommand<KeyPair, undefined>('node-ecies-keypair');
    for (let i = 0; i < 3; i += 1) {
      const callKey = generateCallKey();
      const ciphertext = encryptCallKey(callKey, oracle.publicKey);
      const decrypted = await executeServerCommand<string, { privateKey: string; ciphertext: string }>('node-ecies-decrypt', {
        privateKey: oracle.privateKey,
        ciphertext,
      });
      expect(decrypted).to.equal(callKey);
    }
  });

  it('encrypts call keys with WebCrypto (as the element does) that Node (eciesjs) decrypts', async () => {
    const oracle = await executeServerCommand<KeyPair, undefined>('node-ecies-keypair');
    const callKey = generateCallKey();
    const ciphertext = await encryptCallKeyWithWebCrypto(callKey, oracle.publicKey);
    const decrypted = await executeServerCommand<string, { privateKey: string; ciphertext: string }>('node-ecies-decrypt', {
      privateKey: oracle.privateKey,
      ciphertext,
    });
    expect(decrypted).to.equal(callKey);
  });

  it('decrypts what Node (eciesjs) encrypts to a key pair made in the browser', async () => {
    const oracle = generateOracleKeyPair();
    const callKey = generateCallKey();
    const ciphertext = await executeServerCommand<string, { publicKey: string; plaintext: string }>('node-ecies-encrypt', {
      publicKey: oracle.publicKey,
      plaintext: callKey,
    });
    expect(decryptCallKey(ciphertext, oracle.privateKey)).to.equal(callKey);
  });

  it('refuses a wrong private key in the browser too', () => {
    const ciphertext = encryptCallKey(generateCallKey(), generateOracleKeyPair().publicKey);
    expect(() => decryptCallKey(ciphertext, generateOracleKeyPair().privateKey)).to.throw(/could not be decrypted/);
  });

  it('makes room names and parses callIds', () => {
    const roomName = generateRoomName();
    expect(roomName).to.match(ROOM_NAME_PATTERN);
    expect(parseCallId(`$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg@${roomName}`).roomName).to.equal(roomName);
  });
});

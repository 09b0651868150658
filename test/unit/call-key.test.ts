import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCallKey, generateCallKey, isCallKey } from '../../protocol/index.ts';

describe('call key', () => {
  it('is 64 lowercase hex characters and differs each time', () => {
    const keys = Array.from({ length: 100 }, generateCallKey);
    for (const key of keys) assert.match(key, /^[0-9a-f]{64}$/);
    assert.equal(new Set(keys).size, keys.length);
  });

  it('uses every hex digit over many keys (no bias toward a subset)', () => {
    const seen = new Set(Array.from({ length: 50 }, generateCallKey).join(''));
    assert.equal(seen.size, 16);
  });

  it('refuses keys of the wrong form', () => {
    for (const bad of ['', 'A'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), 'g'.repeat(64), 42, null]) {
      assert.equal(isCallKey(bad), false);
      assert.throws(() => assertCallKey(bad), { reason: 'invalid_call_key' });
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { secretMatcher } from '../../server/middleware/auth.ts';

describe('secretMatcher (the agent API key check)', () => {
  const secret = 'a3f9c2e1b7d04e6f8a1b2c3d4e5f60718293a4b5c6d7e8f9';
  const matches = secretMatcher(secret);

  it('accepts the secret itself, given as a new string', () => {
    assert.equal(matches(secret.split('').join('')), true);
  });

  it('refuses any other value: one byte changed, a prefix, a longer value, empty, the same bytes in other case', () => {
    const changed = `${secret.slice(0, -1)}0`;
    for (const given of [changed, secret.slice(0, -1), `${secret}0`, secret.slice(0, 16), '', secret.toUpperCase(), `${secret}${secret}`]) {
      assert.equal(matches(given), false, JSON.stringify(given));
    }
  });

  it('compares bytes, not characters: a value of the same length in characters but not in bytes is refused', () => {
    const multibyte = `é${secret.slice(1)}`;
    assert.equal(multibyte.length, secret.length);
    assert.equal(matches(multibyte), false);
    const withMultibyte = secretMatcher(multibyte);
    assert.equal(withMultibyte(multibyte), true);
    assert.equal(withMultibyte(secret), false);
  });
});

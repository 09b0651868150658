import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAllowedBackend } from '../../widget/page/allowed-backends.ts';

describe("the widget page's backend allow-list (VITE_ALLOWED_BACKENDS)", () => {
  const page = 'https://oracle.example';

  it("allows only the page's own origin by default", () => {
    assert.equal(isAllowedBackend('https://oracle.example', undefined, page), true);
    assert.equal(isAllowedBackend('https://oracle.example/api/', '', page), true);
    assert.equal(isAllowedBackend('https://evil.example', undefined, page), false);
    assert.equal(isAllowedBackend('http://oracle.example', undefined, page), false, 'another scheme');
    assert.equal(isAllowedBackend('https://oracle.example:8443', undefined, page), false, 'another port');
    assert.equal(isAllowedBackend('https://oracle.example.evil.example', undefined, page), false);
    assert.equal(isAllowedBackend('https://user:pw@oracle.example', undefined, page), false);
    assert.equal(isAllowedBackend('javascript:alert(1)', undefined, page), false);
    assert.equal(isAllowedBackend('not a url', undefined, page), false);
  });

  it('allows exactly the listed origins, and any port only where the entry says *', () => {
    const list = 'https://api.oracle.example, http://127.0.0.1:*';
    assert.equal(isAllowedBackend('https://api.oracle.example', list, page), true);
    assert.equal(isAllowedBackend('https://oracle.example', list, page), false, "a list replaces the page's origin");
    assert.equal(isAllowedBackend('http://127.0.0.1:41234', list, page), true);
    assert.equal(isAllowedBackend('http://localhost:41234', list, page), false);
    assert.equal(isAllowedBackend('https://api.oracle.example:444', list, page), false);
  });
});

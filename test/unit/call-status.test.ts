import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CALL_STATUSES, assertTransition, canTransition, isCallStatus } from '../../protocol/index.ts';

describe('status transitions', () => {
  const allowed = new Set(['pending>active', 'pending>ended', 'active>ended']);

  it('allow exactly pending→active, pending→ended and active→ended', () => {
    for (const from of CALL_STATUSES) {
      for (const to of CALL_STATUSES) {
        const expected = allowed.has(`${from}>${to}`);
        assert.equal(canTransition(from, to), expected, `${from} → ${to}`);
        if (expected) assert.doesNotThrow(() => assertTransition(from, to));
        else assert.throws(() => assertTransition(from, to), { reason: 'invalid_transition' });
      }
    }
  });

  it('nothing leaves ended', () => {
    for (const to of CALL_STATUSES) assert.equal(canTransition('ended', to), false);
  });

  it('knows its statuses', () => {
    assert.equal(isCallStatus('active'), true);
    assert.equal(isCallStatus('failed'), false);
    assert.equal(isCallStatus(undefined), false);
  });
});

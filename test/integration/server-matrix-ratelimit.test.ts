/**
 * What the oracle's Matrix account meets on a homeserver that limits each account's sends, as a
 * production Synapse does (about 0.2 events/s; here far less, to reach the limit in a few calls): every
 * admitted call costs the oracle an edit, so past the burst a sync answers 502 matrix_rate_limited,
 * and once the operator lifts the limit for the oracle's account, the same sync succeeds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { announceCall, syncCall } from '../../scripts/stack/stack.ts';
import { SynapseAdmin } from '../helpers/synapse-admin.ts';
import { useStack } from '../helpers/use-stack.ts';

describe("the oracle's account on a homeserver with send limits (real Synapse, rc_message on)", () => {
  // Joins count too: the oracle's burst of 5 is 3 joins and 2 edits; each user's, a room and a call event.
  const stack = useStack({}, { synapse: { messageRateLimit: { perSecond: 0.01, burstCount: 5 } } });

  it('past the burst a sync answers 502 matrix_rate_limited; after override_ratelimit for the oracle it succeeds', async () => {
    const s = stack();
    const users = [await s.newUser(), await s.newUser(), await s.newUser()];
    const admitted = [];
    for (const user of users.slice(0, 2)) {
      const response = await syncCall(s, user, await announceCall(s, user));
      assert.equal(response.status, 200, JSON.stringify(response.body));
      admitted.push(response.body.call.callId as string);
    }
    const user = users[2]!;
    const call = await announceCall(s, user);
    const started = Date.now();
    const limited = await syncCall(s, user, call);
    assert.equal(limited.status, 502, JSON.stringify(limited.body));
    assert.equal(limited.body.error.code, 'matrix_rate_limited');
    assert.match(limited.body.error.message, /rate-limits the oracle's Matrix account/);
    assert.ok(Date.now() - started < 60_000, `answered after ${Date.now() - started} ms (bounded retries)`);
    for (const callId of admitted) assert.equal((await s.backend.store.get(callId))?.status, 'active', 'calls admitted before are untouched');

    await (await SynapseAdmin.register(s.synapse)).liftRateLimit(s.oracle.userId);
    const retried = await syncCall(s, user, call);
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.call.status, 'active');
  });
});

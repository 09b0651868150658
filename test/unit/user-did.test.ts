import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matrixUserDid } from '../../protocol/index.ts';
import { ApiError } from '../../server/errors.ts';
import { UserDidPolicy } from '../../server/user-did.ts';

const USER = '@alice:example.org';

describe('USER_DID_POLICY', () => {
  it('takes the did:matrix form of the signed-in user as proven, under every policy', async () => {
    assert.equal(matrixUserDid(USER), 'did:matrix:%40alice:example.org');
    for (const policy of ['verify', 'claim', 'drop'] as const) {
      assert.deepEqual(await new UserDidPolicy(policy).check(USER, matrixUserDid(USER)), { verifiedUserDid: 'did:matrix:%40alice:example.org' });
    }
  });

  it("refuses (verify), passes on as a claim only (claim) or drops (drop) any other DID, another user's derived one included", async () => {
    for (const did of ['did:ixo:ixo1victim', matrixUserDid('@bob:example.org')]) {
      await assert.rejects(
        new UserDidPolicy('verify').check(USER, did),
        (error: unknown) => error instanceof ApiError && error.status === 403 && error.code === 'user_did_unverified',
      );
      assert.deepEqual(await new UserDidPolicy('claim').check(USER, did), { claimedUserDid: did });
      assert.deepEqual(await new UserDidPolicy('drop').check(USER, did), {});
    }
  });

  it('asks the resolver hook about other DIDs, for that user', async () => {
    const asked: [string, string][] = [];
    const policy = new UserDidPolicy('verify', async (did, userId) => {
      asked.push([did, userId]);
      return did === 'did:ixo:ixo1alice' && userId === USER;
    });
    assert.deepEqual(await policy.check(USER, 'did:ixo:ixo1alice'), { verifiedUserDid: 'did:ixo:ixo1alice' });
    await assert.rejects(policy.check('@mallory:example.org', 'did:ixo:ixo1alice'));
    assert.deepEqual(asked, [
      ['did:ixo:ixo1alice', USER],
      ['did:ixo:ixo1alice', '@mallory:example.org'],
    ]);
  });
});

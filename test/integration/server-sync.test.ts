import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decryptCallKey } from '../../protocol/index.ts';
import { AGENT_API_KEY, announceCall, syncCall, useStack } from '../helpers/backend.ts';

describe('POST /calls/:callId/sync (real Synapse, LiveKit, HTTP)', () => {
  const stack = useStack();

  it('admits a call, dispatches the agent with the callId, edits the event to active and answers a room token', async () => {
    const s = stack();
    const user = await s.newUser();
    const call = await announceCall(s, user);
    const response = await syncCall(s, user, call);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.call.callId, call.callId);
    assert.equal(response.body.call.status, 'active');
    assert.equal(response.body.call.userId, user.matrix.userId);
    assert.equal('encryptionKey' in response.body.call, false);
    assert.equal(response.body.livekit.url, s.livekit.url);

    const dispatches = await s.backend.store.get(call.callId).then(() => import('livekit-server-sdk')).then(({ AgentDispatchClient }) =>
      new AgentDispatchClient(s.livekit.httpUrl, s.livekit.apiKey, s.livekit.apiSecret).listDispatch(call.content.roomId));
    // LiveKit also lists its automatic dispatch (no agent name) for every room.
    const ours = dispatches.filter((dispatch) => dispatch.agentName === 'oracle');
    assert.equal(ours.length, 1);
    assert.equal(ours[0]!.metadata, call.callId);

    const edits = await s.oracle.getEdits(user.roomId, call.eventId, 'm.ixo.oracles_call');
    assert.equal(edits.length, 1);
    assert.equal(edits[0]!.sender, s.oracle.userId);
    assert.equal((edits[0]!.content as any)['m.new_content'].callStatus, 'active');

    const key = await s.api('GET', `/calls/${encodeURIComponent(call.callId)}/key`, { apiKey: AGENT_API_KEY });
    assert.equal(key.status, 200);
    assert.equal(decryptCallKey(key.body.encryptionKey, s.oracleKeys.privateKey), call.callKey);
  });
});

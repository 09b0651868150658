/// <reference types="mocha" />
import { expect, waitUntil } from '@open-wc/testing';
import { CALL_EVENT_TYPE, callEditContentSchema, callEventContentSchema, decryptCallKey, generateOracleKeyPair, parseCallId } from '../../protocol/index.ts';
import { ERROR_COPY } from '../../widget/errors.ts';
import { MatrixTransportError } from '../../widget/transport/matrix-transport.ts';
import { conflict, ORACLE_DID, roomKeyUnavailable } from './fakes/fake-backend.ts';
import { Gate } from './fakes/gate.ts';
import { ROOM_ID, announced, click, eventsOf, mount, part, text, untilPhase } from './fakes/harness.ts';
import type { Harness } from './fakes/harness.ts';

let h: Harness;

afterEach(async () => {
  if (h?.el.isConnected) {
    await h.el.endCall();
    h.el.remove();
  }
  h?.dispose();
});

describe('<oracle-call> a call end to end (with fakes)', () => {
  it('callOracle resolves in the call; endCall edits the event to ended, leaves, tells the backend', async () => {
    h = await mount({ 'session-id': 'session-42' });
    await h.el.callOracle({ type: 'video' });
    expect(h.el.state.phase).to.equal('in-call');
    const [first] = h.transport.calls;
    expect(first!.roomId).to.equal(ROOM_ID);
    const content = callEventContentSchema.parse(first!.content);
    expect(content).to.include({ callType: 'video', callStatus: 'pending', sessionId: 'session-42', oracleDid: ORACLE_DID });
    expect(content.userDid, 'did:matrix: and the verified Matrix user ID').to.equal('did:matrix:%40alice:example.org');
    expect(Math.abs(Date.parse(content.callStartedAt) - Date.now())).to.be.below(5000);
    const session = h.media.last;
    expect(decryptCallKey(content.encryptionKey, h.backend.keys.privateKey), 'the key LiveKit got is the one encrypted to the oracle').to.equal(
      session.connectedWith!.callKey,
    );
    const callId = `${first!.eventId}@${content.roomId}`;
    expect(parseCallId(callId).roomName).to.equal(content.roomId);
    expect(h.backend.log).to.deep.equal(['getOracle', 'signIn', 'syncCall']);
    expect(h.backend.syncs[0]).to.deep.include({ callId, body: { matrixRoomId: ROOM_ID, sessionId: 'session-42' } });
    expect(session.connectedWith).to.deep.include({ url: 'ws://127.0.0.1:7880', token: 'livekit-token' });

    await h.el.endCall();
    expect(h.el.state.phase).to.equal('ended');
    const [edit] = h.transport.edits;
    const parsed = callEditContentSchema.parse(edit!.content);
    expect(parsed['m.relates_to']).to.deep.equal({ rel_type: 'm.replace', event_id: first!.eventId });
    expect(parsed['m.new_content']).to.include({ callStatus: 'ended', callId, encryptionKey: content.encryptionKey });
    expect(parsed['m.new_content'].callEndedAt).to.be.a('string');
    expect(session.closed).to.equal(true);
    expect(
      session.tracks.every((t) => t.readyState === 'ended'),
      'every track stopped',
    ).to.equal(true);
    expect(h.backend.ended).to.deep.equal([callId]);
    const [ended] = eventsOf(h, 'oracle-call-ended');
    expect(ended).to.deep.include({ bubbles: true, composed: true });
    expect(ended!.detail).to.deep.equal({ callType: 'video', callId, reason: 'hang-up', durationSeconds: 0 });
  });

  it('callOracle refuses while a call is under way; endCall when idle does nothing', async () => {
    h = await mount();
    await h.el.endCall();
    expect(h.el.state.phase).to.equal('idle');
    await h.el.callOracle();
    let refused: unknown;
    await h.el.callOracle().catch((error: unknown) => (refused = error));
    expect(String(refused)).to.contain('in-call');
    expect(h.transport.calls).to.have.length(1);
  });

  it('uses the user-did attribute when given', async () => {
    h = await mount({ 'user-did': 'did:ixo:ixo1person' });
    await h.el.callOracle();
    expect((h.transport.calls[0]!.content as { userDid: string }).userDid).to.equal('did:ixo:ixo1person');
  });

  it('a sync answered 503 room_key_unavailable (encrypted room, key still on its way) is sent again, and the call goes on', async () => {
    h = await mount();
    h.backend.syncFailures.push(roomKeyUnavailable());
    await h.el.callOracle();
    expect(h.el.state.phase).to.equal('in-call');
    expect(h.backend.log.filter((step) => step === 'syncCall')).to.have.length(2);
    expect(h.backend.syncs[1]!.callId, 'the same call, synced again').to.equal(h.backend.syncs[0]!.callId);
    expect(h.transport.calls, 'the call event was sent once').to.have.length(1);
    expect(h.transport.edits).to.have.length(0);
  });

  it('when the room key never comes, the syncs stop after three and the call fails as the backend being unavailable', async () => {
    h = await mount();
    h.backend.syncFailures.push(roomKeyUnavailable(), roomKeyUnavailable(), roomKeyUnavailable(), roomKeyUnavailable());
    await h.el.callOracle();
    expect(h.el.state.phase).to.equal('error');
    expect(h.backend.log.filter((step) => step === 'syncCall')).to.have.length(3);
    const [error] = eventsOf(h, 'oracle-call-error');
    expect(error!.detail).to.include({ reason: 'backend-unavailable' });
    expect(h.transport.edits[0]!.content['m.new_content'].callStatus, 'the event is edited to ended').to.equal('ended');
  });

  it('a sync refused for another reason is not repeated', async () => {
    h = await mount();
    h.backend.syncFailures.push(conflict('key_reused'));
    await h.el.callOracle();
    expect(h.el.state.phase).to.equal('error');
    expect(h.backend.log.filter((step) => step === 'syncCall')).to.have.length(1);
  });

  it('an error after the event was sent: the event is edited to ended, tracks stopped, backend told', async () => {
    h = await mount();
    h.backend.syncError = conflict('key_reused');
    await h.el.callOracle();
    expect(h.el.state.phase).to.equal('error');
    const [error] = eventsOf(h, 'oracle-call-error');
    expect(error).to.deep.include({ bubbles: true, composed: true });
    expect(error!.detail).to.include({ reason: 'call-refused', retryable: true, message: ERROR_COPY['call-refused'].message });
    const [first] = h.transport.calls;
    expect(error!.detail.callId).to.equal(`${first!.eventId}@${(first!.content as { roomId: string }).roomId}`);
    expect(h.transport.edits).to.have.length(1);
    expect(h.transport.edits[0]!.content['m.relates_to'].event_id).to.equal(first!.eventId);
    expect(h.transport.edits[0]!.content['m.new_content'].callStatus).to.equal('ended');
    expect(h.media.last.closed).to.equal(true);
    expect(h.media.last.tracks[0]!.readyState).to.equal('ended');
    expect(h.backend.ended).to.have.length(1);
    expect(eventsOf(h, 'oracle-call-ended'), 'an error is not an ending').to.have.length(0);
  });

  it('the oracle never joins: oracle-timeout after oracle-timeout seconds, with the same cleanup', async () => {
    h = await mount({ 'oracle-timeout': '0.2' });
    h.media.behaviour = { ...h.media.behaviour, oracle: 'manual' };
    const started = Date.now();
    await h.el.callOracle();
    expect(h.el.state.phase).to.equal('error');
    expect(Date.now() - started).to.be.at.least(150);
    expect(eventsOf(h, 'oracle-call-error')[0]!.detail.reason).to.equal('oracle-timeout');
    expect(h.states).to.deep.equal(['preparing-media', 'calling', 'connecting', 'waiting-for-oracle', 'error']);
    expect(h.transport.edits[0]!.content['m.new_content'].callStatus).to.equal('ended');
    expect(h.media.last.closed).to.equal(true);
    expect(h.backend.ended).to.have.length(1);
  });

  it('no oracle can take the call: the backend ended it (oracle_busy) and closed the room; the element says the oracle is busy', async () => {
    h = await mount();
    h.media.behaviour = { ...h.media.behaviour, oracle: 'manual' };
    const calling = h.el.callOracle();
    await untilPhase(h.el, 'waiting-for-oracle');
    const callId = (h.el.state as { callId?: string }).callId!;
    h.backend.serverEndReasons.set(callId, 'oracle_busy');
    h.media.last.roomClosedBeforeOracle();
    await calling;
    expect(h.el.state.phase).to.equal('error');
    expect(eventsOf(h, 'oracle-call-error')[0]!.detail.reason).to.equal('oracle-busy');
    expect(h.el.shadowRoot!.textContent).to.include(ERROR_COPY['oracle-busy'].title);
    expect(h.backend.log).to.include('getCall');
    expect(h.media.last.closed).to.equal(true);
  });

  it('no oracle came and the backend had ended the call as busy (its room closed before the person joined): the element says the oracle is busy', async () => {
    h = await mount({ 'oracle-timeout': '0.2' });
    h.media.behaviour = { ...h.media.behaviour, oracle: 'manual' };
    const calling = h.el.callOracle();
    await untilPhase(h.el, 'waiting-for-oracle');
    h.backend.serverEndReasons.set((h.el.state as { callId?: string }).callId!, 'oracle_busy');
    await calling;
    expect(eventsOf(h, 'oracle-call-error')[0]!.detail.reason).to.equal('oracle-busy');
    expect(h.backend.log).to.include('getCall');
  });

  it('a room that drops before the oracle came, for no reason the backend gives, stays connection-lost', async () => {
    h = await mount();
    h.media.behaviour = { ...h.media.behaviour, oracle: 'manual' };
    const calling = h.el.callOracle();
    await untilPhase(h.el, 'waiting-for-oracle');
    h.media.last.roomClosedBeforeOracle();
    await calling;
    expect(eventsOf(h, 'oracle-call-error')[0]!.detail.reason).to.equal('connection-lost');
  });

  it('an error before the event was sent leaves nothing to edit, and still stops the tracks', async () => {
    h = await mount();
    h.transport.sendError = new MatrixTransportError('M_FORBIDDEN', { retryable: false });
    await h.el.callOracle();
    expect(eventsOf(h, 'oracle-call-error')[0]!.detail.reason).to.equal('matrix-unavailable');
    expect(h.transport.sendAttempts, 'a refusal is not retried').to.equal(1);
    expect(h.transport.sent).to.have.length(0);
    expect(h.media.last.closed).to.equal(true);
    expect(h.backend.log).to.not.include('endCall');
  });

  it('retries sending the call event with backoff, then goes on', async () => {
    h = await mount();
    h.transport.failSends = 2;
    await h.el.callOracle();
    expect(h.el.state.phase).to.equal('in-call');
    expect(h.transport.sendAttempts).to.equal(3);
    expect(h.transport.calls).to.have.length(1);
  });

  it('gives up after the bounded number of attempts', async () => {
    h = await mount();
    h.transport.failSends = 10;
    await h.el.callOracle();
    expect(eventsOf(h, 'oracle-call-error')[0]!.detail.reason).to.equal('matrix-unavailable');
    expect(h.transport.sendAttempts).to.equal(4);
  });

  it('hanging up while the event is being sent still edits it to ended once it is there', async () => {
    h = await mount();
    const send = new Gate();
    h.transport.sendGate = send;
    void h.el.callOracle();
    await waitUntil(() => send.entered);
    const ending = h.el.endCall();
    await untilPhase(h.el, 'ending');
    send.open();
    await ending;
    expect(h.el.state.phase).to.equal('ended');
    expect(h.transport.calls).to.have.length(1);
    expect(h.transport.edits).to.have.length(1);
    expect(h.transport.edits[0]!.content['m.relates_to'].event_id).to.equal(h.transport.calls[0]!.eventId);
    expect(h.backend.log, 'never admitted, nothing to tell the backend').to.not.include('syncCall');
    expect(eventsOf(h, 'oracle-call-ended')[0]!.detail).to.include({ reason: 'hang-up', durationSeconds: 0 });
  });

  it('the oracle leaving ends the call (oracle-left); a dropped connection is an error', async () => {
    h = await mount();
    await h.el.callOracle();
    h.media.last.emit({ type: 'oracle-left' });
    await untilPhase(h.el, 'ended');
    expect(text(h.el, 'status-text')).to.equal('The oracle ended the call');
    expect(eventsOf(h, 'oracle-call-ended')[0]!.detail.reason).to.equal('oracle-left');
    expect(h.transport.edits).to.have.length(1);

    click(h.el, 'call-button');
    await untilPhase(h.el, 'in-call');
    h.media.last.emit({ type: 'disconnected', reason: 'SIGNAL_CLOSE' });
    await untilPhase(h.el, 'error');
    expect(eventsOf(h, 'oracle-call-error')[0]!.detail).to.include({ reason: 'connection-lost', detail: 'SIGNAL_CLOSE' });
    expect(h.transport.edits).to.have.length(2);
    expect(h.media.last.closed).to.equal(true);
  });

  it('a pinned key and DID skip GET /oracle; a pinned key the backend contradicts stops the call', async () => {
    const pinned = generateOracleKeyPair();
    h = await mount({ 'oracle-public-key': pinned.publicKey, 'oracle-did': 'did:ixo:pinned' });
    await h.el.callOracle();
    expect(h.backend.log).to.not.include('getOracle');
    const content = h.transport.calls[0]!.content as { encryptionKey: string; oracleDid: string };
    expect(content.oracleDid).to.equal('did:ixo:pinned');
    expect(decryptCallKey(content.encryptionKey, pinned.privateKey)).to.match(/^[0-9a-f]{64}$/);
    await h.el.endCall();
    h.el.remove();
    h.dispose();

    h = await mount({ 'oracle-public-key': pinned.publicKey });
    await h.el.callOracle();
    expect(eventsOf(h, 'oracle-call-error')[0]!.detail).to.include({ reason: 'oracle-key-mismatch', retryable: false });
    expect(h.transport.sent).to.have.length(0);
  });

  it('media turning unencrypted during the call ends it as an error, with cleanup', async () => {
    h = await mount();
    await h.el.callOracle();
    h.media.last.change({ encryption: 'not-encrypted' });
    await untilPhase(h.el, 'error');
    expect(eventsOf(h, 'oracle-call-error')[0]!.detail.reason).to.equal('not-encrypted');
    expect(h.media.last.closed).to.equal(true);
    expect(h.transport.edits).to.have.length(1);
  });

  it('offers "Turn on sound" when the browser blocks the oracle\'s audio', async () => {
    h = await mount();
    await h.el.callOracle();
    expect(part(h.el, 'sound-button')).to.equal(null);
    h.media.last.change({ audioBlocked: true });
    await h.el.updateComplete;
    expect(announced(h.el)).to.contain('Turn on sound');
    click(h.el, 'sound-button');
    await waitUntil(() => h.media.last.audioStarts === 1);
    await h.el.updateComplete;
    expect(part(h.el, 'sound-button')).to.equal(null);
  });

  it('moved elsewhere in the page, it keeps its call', async () => {
    h = await mount();
    await h.el.callOracle();
    const other = document.createElement('div');
    document.body.append(other);
    other.append(h.el);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h.el.state.phase).to.equal('in-call');
    expect(h.media.last.closed).to.equal(false);
    await h.el.endCall();
    other.remove();
  });

  it('taken out of the page mid-call, it leaves no call behind', async () => {
    h = await mount();
    await h.el.callOracle();
    const session = h.media.last;
    h.el.remove();
    await waitUntil(() => h.transport.edits.length === 1 && session.closed);
    expect(h.backend.ended).to.have.length(1);
  });

  it('fires events that bubble out of shadow roots with typed details', async () => {
    h = await mount();
    const seen: string[] = [];
    const wrapper = document.createElement('div');
    const shadow = wrapper.attachShadow({ mode: 'open' });
    document.body.append(wrapper);
    shadow.append(h.el);
    document.body.addEventListener('oracle-call-state', (event) => seen.push(event.detail.state));
    await h.el.callOracle();
    await h.el.endCall();
    expect(seen).to.include.members(['preparing-media', 'in-call', 'ended']);
    wrapper.remove();
  });

  it('sends the call event type the protocol names', async () => {
    h = await mount();
    await h.el.callOracle();
    expect(CALL_EVENT_TYPE).to.equal('m.ixo.oracles_call');
    expect(h.transport.kind).to.equal('fake');
  });
});

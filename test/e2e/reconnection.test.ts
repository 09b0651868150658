/**
 * A call whose network to the LiveKit server is cut. The LiveKit server offers media over TCP only
 * and Chromium sends all its TCP through a loopback SOCKS5 proxy (scripts/stack/pausable-proxy.ts), so
 * the page's signalling WebSocket and its media (ICE-TCP) both cross the proxy; the test cuts the
 * LiveKit server's ports there: open connections dropped, new ones held.
 *
 * A 5 s cut: the media stops, the element shows "Reconnecting…" with the call's timer kept, then the
 * call goes on, still end-to-end encrypted, the oracle's echo heard again, the agent and the person the
 * same LiveKit participants they were. A cut that does not end: past the element's default
 * `reconnect-timeout` (20 s) the call ends as `connection-lost`, shown to the person, and the backend
 * records the lost connection.
 */
import assert from 'node:assert/strict';
import { before, after, describe, it } from 'node:test';
import { RoomServiceClient } from 'livekit-server-sdk';
import type { Page } from 'playwright-core';
import { parseCallId } from '../../protocol/index.ts';
import { PausableProxy } from '../../scripts/stack/pausable-proxy.ts';
import type { Destination } from '../../scripts/stack/pausable-proxy.ts';
import { CAPTURE_PEER_CONNECTIONS, elementText, listenForMarker, mediaPath, waitForPhase } from '../../scripts/stack/page-probes.ts';
import { useE2E } from '../helpers/e2e.ts';
import type { E2E } from '../helpers/e2e.ts';
import { eventually } from '../helpers/wait.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ElementState {
  readonly phase: string;
  readonly callId?: string;
  readonly since?: number;
  readonly error?: { readonly reason: string; readonly title: string; readonly detail?: string };
}

function stateOf(page: Page): Promise<ElementState> {
  return page.evaluate(() => (document.querySelector('oracle-call') as unknown as { state: ElementState }).state);
}

/** The agent and the person as the LiveKit server knows them in the room: their sessions (sid) and when they joined. */
async function participantsIn(e: E2E, roomName: string) {
  const { livekit } = e.stack;
  const participants = await new RoomServiceClient(livekit.httpUrl, livekit.apiKey, livekit.apiSecret).listParticipants(roomName);
  const session = (found: (typeof participants)[number] | undefined) => found && { identity: found.identity, sid: found.sid, joinedAt: found.joinedAt };
  return {
    agent: session(participants.find((participant) => participant.identity.startsWith('agent-'))),
    person: session(participants.find((participant) => participant.identity === e.user.userId)),
  };
}

describe('reconnection in headless Chromium behind a pausable proxy (real Synapse, LiveKit, backend, agent)', () => {
  let proxy: PausableProxy | undefined;
  before(async () => {
    proxy = await PausableProxy.start();
  });
  after(() => proxy?.stop());
  const e2e = useE2E({ livekitTcpOnly: true, browserArgs: () => proxy!.chromiumArgs() });

  let page: Page;
  let callId: string;
  /** Every port of the LiveKit server: signalling and media over TCP. */
  let toLiveKit: (destination: Destination) => boolean;

  it('a 5 s cut: the media stops, Reconnecting… with the timer kept, then the call goes on: encrypted, the echo heard, the same agent', async () => {
    const e = e2e();
    const { ports } = e.stack.livekit;
    // By port: the server listens on every interface, and ICE may pick any of its addresses.
    toLiveKit = ({ port }) => port === ports.http || port === ports.tcp;
    page = await e.newPage();
    await page.context().addInitScript(CAPTURE_PEER_CONNECTIONS);
    await page.goto(e.pages.pageUrl);
    await page.getByText('Signed in as').waitFor({ timeout: 30_000 });
    // The lobby has its own test (call.test.ts); reconnect-timeout stays at its default (20 s).
    await page.evaluate(() => document.querySelector('oracle-call')!.setAttribute('no-lobby', ''));
    await page.locator('oracle-call').getByRole('button', { name: 'Start audio call' }).click();
    await waitForPhase(page, 'in-call', 45_000);
    const inCall = await stateOf(page);
    callId = inCall.callId!;
    const { roomName } = parseCallId(callId);

    // The media really crosses the proxy: ICE over TCP to the LiveKit server, audio flowing.
    const flowing = await eventually('audio arriving over ICE-TCP', async () => {
      const path = await mediaPath(page);
      return path.pairs.length > 0 && path.inboundAudioBytes > 0 && path;
    });
    assert.ok(
      flowing.pairs.every((pair) => pair.protocol === 'tcp' && pair.remote.endsWith(`:${ports.tcp}`)),
      `every peer connection uses ICE-TCP to the LiveKit server: ${JSON.stringify(flowing.pairs)}`,
    );
    const viaProxy = () => proxy!.bytesTo(({ port }) => port === ports.tcp);
    const proxied = viaProxy();
    await sleep(1000);
    assert.ok((await mediaPath(page)).inboundAudioBytes > flowing.inboundAudioBytes, 'audio keeps arriving before the cut');
    assert.ok(viaProxy() > proxied, 'the media goes through the proxy');
    const sessions = await participantsIn(e, roomName);
    assert.ok(sessions.agent && sessions.person, 'the agent and the person are in the room');

    proxy!.pause(toLiveKit);
    const cutAt = Date.now();
    await waitForPhase(page, 'reconnecting', 20_000);
    const element = page.locator('oracle-call');
    assert.match((await element.locator('[part="status-text"]').textContent()) ?? '', /Reconnecting…/);
    assert.ok(await element.locator('[part="timer"]').isVisible(), 'the timer stays');
    assert.equal((await stateOf(page)).since, inCall.since, 'the call keeps its start time');
    await e.screenshot(page, 'reconnecting');
    const cutStart = (await mediaPath(page)).inboundAudioBytes;
    assert.ok(cutStart > 0, 'the peer connection stays open through the cut');
    await sleep(Math.max(0, cutAt + 4500 - Date.now()));
    assert.equal((await mediaPath(page)).inboundAudioBytes, cutStart, 'no audio arrives while the network is cut');
    await sleep(Math.max(0, cutAt + 5000 - Date.now()));
    proxy!.resume();

    await waitForPhase(page, 'in-call', 40_000);
    assert.equal((await stateOf(page)).since, inCall.since, 'the timer goes on from the call start');
    assert.equal(await element.locator('[part="encryption"]').getAttribute('data-status'), 'encrypted', 'still end-to-end encrypted');
    const back = await eventually('audio arriving again', async () => {
      const path = await mediaPath(page);
      return path.pairs.length > 0 && path.inboundAudioBytes > cutStart && path;
    });
    assert.ok(
      back.pairs.every((pair) => pair.protocol === 'tcp' && pair.remote.endsWith(`:${ports.tcp}`)),
      `the media is back over ICE-TCP through the proxy: ${JSON.stringify(back.pairs)}`,
    );
    // The echo comes back only if the agent still hears the person and both sides still decrypt.
    const heard = await listenForMarker(page, 15_000);
    assert.ok(heard.markerMs >= 1000, `the oracle echoes again after the cut (marker heard ${heard.markerMs} ms, ${heard.streams} streams)`);
    const resumed = await participantsIn(e, roomName);
    assert.deepEqual(resumed.agent, sessions.agent, 'the agent is the same participant, in the room since before the cut');
    assert.deepEqual(resumed.person, sessions.person, 'the person resumed their session (no new join)');
    assert.equal((await e.stack.backend.store.get(callId))?.status, 'active');
  });

  it('a cut that does not end: past the default reconnect-timeout the call ends as connection-lost, shown and recorded by the backend', async () => {
    const e = e2e();
    assert.ok(callId, 'the call of the previous test is running');
    assert.equal((await stateOf(page)).phase, 'in-call');
    proxy!.pause(toLiveKit);
    const cutAt = Date.now();
    try {
      await waitForPhase(page, 'error', 60_000);
    } finally {
      proxy!.resume();
    }
    const ended = (Date.now() - cutAt) / 1000;
    assert.ok(ended >= 19 && ended < 35, `the call ended ${ended.toFixed(1)} s into the cut, at the 20 s bound`);
    const { error } = await stateOf(page);
    assert.equal(error?.reason, 'connection-lost');
    assert.match(error?.detail ?? '', /within 20 s/, 'ended by the element’s bound, not by LiveKit giving up');
    assert.match(await elementText(page), /The call dropped.*connection was lost during the call/);
    await e.screenshot(page, 'connection-lost');
    const record = await eventually('the backend to record the end', async () => {
      const found = await e.stack.backend.store.get(callId);
      return found?.status === 'ended' && found;
    });
    // The LiveKit server gives a silent participant up (about 20 s) before the element's bound: its
    // webhook usually records the loss first; the page's own report, coming later, changes nothing.
    assert.match(record.endReason ?? '', /^user(_left)?: connection_lost$/, `the backend records the lost connection (${record.endReason})`);
  });
});

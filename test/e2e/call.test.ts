import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RoomServiceClient } from 'livekit-server-sdk';
import type { Frame, Page } from 'playwright-core';
import { CALL_EVENT_TYPE, currentCallState, parseCallId } from '../../protocol/index.ts';
import { elementText, listenForMarker, useE2E, waitForPhase } from '../helpers/e2e.ts';
import type { E2E } from '../helpers/e2e.ts';

type Scope = Page | Frame;

function callIdOf(scope: Scope): Promise<string | undefined> {
  return scope.evaluate(() => (document.querySelector('oracle-call') as unknown as { state?: { callId?: string } } | null)?.state?.callId);
}

function errorOf(scope: Scope): Promise<{ reason?: string; message?: string } | undefined> {
  return scope.evaluate(() => (document.querySelector('oracle-call') as unknown as { state?: { error?: { reason?: string; message?: string } } } | null)?.state?.error);
}

async function agentIn(e: E2E, roomName: string): Promise<boolean> {
  const { livekit } = e.stack;
  const participants = await new RoomServiceClient(livekit.httpUrl, livekit.apiKey, livekit.apiSecret).listParticipants(roomName).catch(() => []);
  return participants.some((p) => p.identity.startsWith('agent-'));
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The call's state in Matrix (the event and its edits, as the oracle's account reads them). */
async function matrixState(e: E2E, callId: string) {
  const { eventId } = parseCallId(callId);
  const original = await e.stack.oracle.getEvent(e.user.roomId, eventId);
  return currentCallState(original, await e.stack.oracle.getEdits(e.user.roomId, eventId, CALL_EVENT_TYPE), { editors: [e.stack.oracle.userId] });
}

/** A whole call in `scope` (the page, or the widget's frame): call, hear the echo, hang up, cleaned up everywhere. */
async function wholeCall(e: E2E, page: Page, scope: Scope, name: string): Promise<void> {
  await scope.locator('oracle-call').getByRole('button', { name: 'Start video call' }).click();
  await waitForPhase(scope, 'in-call', 45_000);
  const callId = await callIdOf(scope);
  assert.ok(callId, 'the element knows its callId');
  assert.match(await elementText(scope), /End-to-end encrypted/);
  await e.screenshot(page, `${name}-in-call`);

  const inMatrix = await matrixState(e, callId);
  assert.equal(inMatrix.sender, e.user.userId, 'the call event in Synapse was sent by the person');
  assert.equal(inMatrix.status, 'active', 'the backend edited the event to active');
  assert.equal((await e.stack.backend.store.get(callId))?.status, 'active');
  assert.equal(await agentIn(e, parseCallId(callId).roomName), true, 'the agent joined');

  // The fake microphone repeats the utterance every 6.5 s; the oracle says each one back.
  const heard = await listenForMarker(scope, 14_000);
  assert.ok(heard.streams >= 1, 'the page plays the oracle\'s audio');
  assert.ok(heard.markerMs >= 1000, `the oracle's audio carries the page's own voice back (marker heard ${heard.markerMs} ms, ${heard.markerDb.toFixed(1)} dB over its neighbours)`);

  await scope.locator('oracle-call').getByRole('button', { name: 'Hang up' }).click();
  await waitForPhase(scope, 'ended', 15_000);
  await e.screenshot(page, `${name}-ended`);
  await eventually('the Matrix event to be edited to ended', async () => (await matrixState(e, callId)).status === 'ended');
  await eventually('the backend to end the call', async () => (await e.stack.backend.store.get(callId))?.status === 'ended');
  await eventually('the agent to leave', async () => !(await agentIn(e, parseCallId(callId).roomName)));
}

describe('a whole call in headless Chromium (real Synapse, LiveKit, backend, agent)', () => {
  const e2e = useE2E();

  it('the script-tag page: call, hear the oracle echo the fake microphone, hang up', async () => {
    const e = e2e();
    const page = await e.newPage();
    await page.goto(e.pages.pageUrl);
    await page.getByText(`Signed in as ${e.user.userId}`).waitFor({ timeout: 30_000 });
    assert.equal(await waitForPhase(page, 'idle'), 'idle');
    await e.screenshot(page, 'page-idle');
    await wholeCall(e, page, page, 'page');
  });

  it('the widget host page: the same call through the widget API, from another origin', async () => {
    const e = e2e();
    const page = await e.newPage();
    await page.goto(e.pages.hostUrl);
    await page.getByText(/Widget ready/).waitFor({ timeout: 30_000 });
    const frame = page.frames().find((f) => f.url().startsWith(new URL(e.pages.widgetUrl).origin));
    assert.ok(frame, 'the widget runs in a frame on its own origin');
    assert.notEqual(new URL(frame.url()).origin, new URL(page.url()).origin);
    await waitForPhase(frame, 'idle');
    await wholeCall(e, page, frame, 'widget');
    assert.match(await page.locator('#capabilities').textContent() ?? '', /sent a call event/);
  });

  describe('failures show the right message and leave nothing open', () => {
    async function failedCall(page: Page, setup: (page: Page) => Promise<void> = async () => {}) {
      await page.goto(e2e().pages.pageUrl);
      await page.getByText('Signed in as').waitFor({ timeout: 30_000 });
      await setup(page);
      await page.locator('oracle-call').getByRole('button', { name: 'Start audio call' }).click();
      await waitForPhase(page, 'error', 60_000);
      return { error: await errorOf(page), text: await elementText(page), callId: await callIdOf(page) };
    }

    it('the backend is down', async () => {
      const page = await e2e().newPage();
      const { error, text } = await failedCall(page, (p) => p.evaluate(() => document.querySelector('oracle-call')!.setAttribute('backend-url', 'http://127.0.0.1:9')));
      assert.ok(['oracle-unavailable', 'backend-unavailable'].includes(error?.reason ?? ''), `reason ${error?.reason}`);
      assert.match(text, /try again|Retry/i);
      await e2e().screenshot(page, 'error-backend-down');
    });

    it('the microphone is denied', async () => {
      const page = await e2e().newPage({ media: false });
      const { error, callId } = await failedCall(page);
      assert.equal(error?.reason, 'permission-denied');
      assert.equal(callId, undefined, 'no call was announced');
      await e2e().screenshot(page, 'error-microphone-denied');
    });

    it('the LiveKit server cannot be reached from the page: the event is ended, the backend told', async () => {
      const e = e2e();
      const page = await e.newPage();
      await page.routeWebSocket(new RegExp(`^${e.stack.livekit.url}`), (ws) => ws.close());
      const { error, callId } = await failedCall(page);
      assert.equal(error?.reason, 'connection-failed');
      assert.ok(callId, 'the call had been announced before the connection failed');
      await eventually('the Matrix event to be edited to ended', async () => (await matrixState(e, callId)).status === 'ended');
      await eventually('the backend to end the call', async () => (await e.stack.backend.store.get(callId))?.status === 'ended');
      await e.screenshot(page, 'error-livekit-unreachable');
    });

    it('the oracle never joins: a timeout, then the same cleanup', async () => {
      const e = e2e();
      await e.agent?.stop();
      e.agent = undefined;
      const page = await e.newPage();
      const { error, callId } = await failedCall(page, (p) => p.evaluate(() => document.querySelector('oracle-call')!.setAttribute('oracle-timeout', '6')));
      assert.equal(error?.reason, 'oracle-timeout');
      assert.ok(callId);
      await eventually('the Matrix event to be edited to ended', async () => (await matrixState(e, callId)).status === 'ended');
      await eventually('the backend to end the call', async () => (await e.stack.backend.store.get(callId))?.status === 'ended');
      await e.screenshot(page, 'error-oracle-timeout');
    });
  });
});

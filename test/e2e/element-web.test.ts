/**
 * The widget inside real Element Web (`../shared/element-web`, or `ELEMENT_WEB_DIR`), used as a person
 * uses it, with everything else real too (Synapse, LiveKit, the backend, the agent, headless Chromium
 * with a fake microphone). Element is served at its own origin, the widget at another. The widget is
 * added to the room the way `npx oracle-call add-widget` adds it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { CALL_EVENT_TYPE, currentCallState, parseCallId } from '../../protocol/index.ts';
import type { CallEventState } from '../../protocol/index.ts';
import { WIDGET_NAME, addWidget } from '../../scripts/add-widget.ts';
import { startElementWeb } from '../../scripts/services/element-web.ts';
import type { ElementWebServer } from '../../scripts/services/element-web.ts';
import { CAPTURE_STREAMS, elementText, listenForMarker, waitForPhase } from '../../scripts/stack/page-probes.ts';
import { useE2E } from '../helpers/e2e.ts';
import type { E2E } from '../helpers/e2e.ts';
import { CAPABILITIES_DIALOG, OPENID_DIALOG, closeWidget, dialog, dismissPrompts, openRoom, openWidget, signIn, widgetFrame } from '../helpers/element-web.ts';
import { eventually } from '../helpers/wait.ts';

const ROOM_NAME = 'visitor ↔ oracle';

function phaseOf(frame: Frame): Promise<string | undefined> {
  return frame.evaluate(() => (document.querySelector('oracle-call') as unknown as { state?: { phase?: string } } | null)?.state?.phase);
}

function callIdOf(frame: Frame): Promise<string | undefined> {
  return frame.evaluate(() => (document.querySelector('oracle-call') as unknown as { state?: { callId?: string } } | null)?.state?.callId);
}

/** The IDs of the room's events now, to tell later events from them. */
async function eventIds(e: E2E): Promise<Set<string>> {
  return new Set((await e.storedEvents()).map((event) => event.event_id));
}

/** Every call the person started in the room (but those in `before`: first events, read in clear), with its current state. */
async function callsInRoom(e: E2E, before = new Set<string>()): Promise<CallEventState[]> {
  const { reader, roomId } = e.user;
  const stored = await e.storedEvents();
  const firsts = stored.filter(
    (event) =>
      event.sender === e.user.userId &&
      event.type === 'm.room.encrypted' &&
      !(event.content as { 'm.relates_to'?: unknown })['m.relates_to'] &&
      !before.has(event.event_id),
  );
  const states: CallEventState[] = [];
  for (const { event_id: eventId } of firsts) {
    const [original, edits] = await Promise.all([reader.event(roomId, eventId), reader.edits(roomId, eventId, CALL_EVENT_TYPE)]);
    if (!original || !edits) throw new Error(`the person's other device cannot read ${eventId} yet`);
    if (original.type === CALL_EVENT_TYPE) states.push(currentCallState(original, edits, { editors: [e.stack.oracle.userId] }));
  }
  return states;
}

/** What Synapse stores of the call, the event and every edit, is `m.room.encrypted`, with no call field in clear. */
async function assertStoredEncrypted(e: E2E, callId: string): Promise<void> {
  const { eventId, roomName } = parseCallId(callId);
  const stored = await e.storedEvents();
  const call = stored.filter(
    (event) => event.event_id === eventId || (event.content as { 'm.relates_to'?: { event_id?: string } })['m.relates_to']?.event_id === eventId,
  );
  assert.ok(call.length >= 3, `Synapse holds the call event and its edits to active and ended (found ${call.length})`);
  assert.deepEqual([...new Set(call.map((event) => event.type))], ['m.room.encrypted']);
  for (const event of stored) {
    assert.notEqual(event.type, CALL_EVENT_TYPE, `${event.event_id} is a call event in clear`);
    const text = JSON.stringify(event.content);
    for (const clear of ['encryptionKey', 'callStatus', 'sessionId', roomName]) assert.ok(!text.includes(clear), `${event.event_id} carries ${clear} in clear`);
  }
}

/** "Start audio call" opens the lobby (the microphone's level and choice) before the call. */
async function startThroughLobby(frame: Frame): Promise<void> {
  await frame.locator('oracle-call').getByRole('button', { name: 'Start audio call' }).click();
  await waitForPhase(frame, 'lobby', 15_000);
}

describe('the widget in real Element Web (v1.12.7), as a person uses it', () => {
  const e2e = useE2E();
  let element: ElementWebServer | undefined;
  const contexts: BrowserContext[] = [];
  /** The person's Element tab, kept from one test to the next as a person keeps it open. */
  let tab: Page | undefined;

  before(async () => {
    const e = e2e();
    element = await startElementWeb({ baseUrl: e.stack.synapse.baseUrl, serverName: e.stack.synapse.serverName });
    await addWidget({
      homeserverUrl: e.stack.synapse.baseUrl,
      accessToken: e.user.accessToken,
      roomId: e.user.roomId,
      pageUrl: e.pages.widgetUrl,
      backendUrl: e.stack.backend.url,
      callType: 'audio',
    });
  });
  after(async () => {
    await Promise.all(contexts.map((context) => context.close().catch(() => {})));
    await element?.close();
  });

  /** A new browser profile signed in to Element: a fresh device of the person's, in the room. */
  async function signedInElement(): Promise<Page> {
    const e = e2e();
    const context = await e.browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    await context.addInitScript(CAPTURE_STREAMS);
    const page = await context.newPage();
    await signIn(page, element!.url, { localpart: 'visitor', password: e.user.password });
    await openRoom(page, ROOM_NAME);
    return page;
  }

  it('sign in, open the widget, approve its permissions after 15 s, call, hear the oracle, hang up', async () => {
    const e = e2e();
    const widgetOrigin = new URL(e.pages.widgetUrl).origin;
    const page = (tab = await signedInElement());
    // Element logs each action a widget leaves unanswered.
    const widgetErrors: string[] = [];
    const unanswered = /Unknown or unsupported to-widget action/;
    page.on('console', (message) => {
      if (unanswered.test(message.text())) widgetErrors.push(message.text());
    });
    page.on('pageerror', (error) => {
      if (unanswered.test(error.message)) widgetErrors.push(error.message);
    });
    assert.notEqual(new URL(page.url()).origin, widgetOrigin, 'the widget is served from another origin than Element');
    await openWidget(page, WIDGET_NAME);

    // A person reads the permissions dialog; the widget waits and says so.
    const capabilities = dialog(page, CAPABILITIES_DIALOG);
    await capabilities.waitFor({ timeout: 20_000 });
    const frame = await widgetFrame(page, widgetOrigin);
    await frame.getByText('Waiting for your approval in Element…').waitFor({ timeout: 10_000 });
    await page.waitForTimeout(15_000);
    await e.screenshot(page, 'element-approval');
    await capabilities.getByRole('button', { name: 'Approve' }).click();
    await frame.getByText('Waiting for your approval in Element…').waitFor({ state: 'hidden', timeout: 10_000 });
    assert.equal(await waitForPhase(frame, 'idle'), 'idle');

    // Element's theme reached the widget through its URL.
    assert.equal(await frame.evaluate(() => document.documentElement.dataset.theme), 'light');
    assert.equal(await frame.locator('oracle-call').getAttribute('theme'), 'light');

    await dismissPrompts(page);
    await startThroughLobby(frame);
    // The lobby signs the person in while they check their devices: Element asks to confirm the OpenID
    // request there, and "Join call" then starts the call without asking again.
    const openId = dialog(page, OPENID_DIALOG);
    await openId.waitFor({ timeout: 20_000 });
    await openId.getByRole('button', { name: 'Continue' }).click();
    await openId.waitFor({ state: 'hidden', timeout: 10_000 });
    await e.screenshot(page, 'element-lobby');
    await frame.locator('oracle-call').getByRole('button', { name: 'Join call' }).click();
    await waitForPhase(frame, 'in-call', 45_000);
    assert.equal(await openId.count(), 0, 'the call used the session signed in from the lobby: no second OpenID request');
    const callId = await callIdOf(frame);
    assert.ok(callId, 'the widget knows its callId');
    assert.match(await elementText(frame), /End-to-end encrypted/);
    await dismissPrompts(page);
    await e.screenshot(page, 'element-in-call');

    // The fake microphone repeats the utterance every 6.5 s; the oracle says each one back, into the widget's frame.
    // Listened to in 5 s stretches until the echo is clearly heard (a loaded machine delays it), at most 30 s.
    let heard = { markerMs: 0, markerDb: -Infinity, streams: 0 };
    for (let listened = 0; listened < 30_000 && heard.markerMs < 500; listened += 5_000) {
      const stretch = await listenForMarker(frame, 5_000);
      heard = {
        markerMs: heard.markerMs + stretch.markerMs,
        markerDb: Math.max(heard.markerDb, stretch.markerDb),
        streams: Math.max(heard.streams, stretch.streams),
      };
    }
    assert.ok(heard.streams >= 1, "the widget plays the oracle's audio");
    assert.ok(
      heard.markerMs >= 500,
      `the oracle's audio in the widget carries the person's voice back (marker heard ${heard.markerMs} ms, ${heard.markerDb.toFixed(1)} dB)`,
    );

    await frame.locator('oracle-call').getByRole('button', { name: 'Hang up' }).click();
    await waitForPhase(frame, 'ended', 15_000);
    await e.screenshot(page, 'element-ended');
    await eventually('the backend to end the call', async () => (await e.stack.backend.store.get(callId))?.status === 'ended');
    await eventually(
      'the Matrix event to be edited to ended',
      async () => (await callsInRoom(e)).find((call) => call.eventId === parseCallId(callId).eventId)?.status === 'ended',
    );
    await assertStoredEncrypted(e, callId);
    assert.deepEqual(widgetErrors, [], 'the widget answers every action Element sends it (theme_change, send_event)');
  });

  it('closing and reopening the widget card, then calling: exactly one call active, none left pending', async (t) => {
    const e = e2e();
    const since = await eventIds(e);
    const widgetOrigin = new URL(e.pages.widgetUrl).origin;
    // The same Element tab as before (its permissions remembered), else a new sign-in.
    let page = tab;
    if (!page) {
      page = await signedInElement();
      await openWidget(page, WIDGET_NAME);
      const capabilities = dialog(page, CAPABILITIES_DIALOG);
      await capabilities.waitFor({ timeout: 20_000 });
      await capabilities.getByRole('button', { name: 'Approve' }).click();
    }
    await widgetFrame(page, widgetOrigin);

    await closeWidget(page);
    await openWidget(page, WIDGET_NAME);
    const frame = await widgetFrame(page, widgetOrigin);
    await waitForPhase(frame, 'idle', 20_000);
    await dismissPrompts(page);
    await startThroughLobby(frame);
    // The lobby signs in, so Element asks to confirm while the lobby is open; Element 1.12.7 may ask twice
    // after a reopen (its old widget connection answers too): a person says yes to each, then joins.
    const join = frame.locator('oracle-call').getByRole('button', { name: 'Join call' });
    const deadline = Date.now() + 45_000;
    while ((await phaseOf(frame)) !== 'in-call') {
      assert.ok(Date.now() < deadline, `the call did not start (phase ${await phaseOf(frame)})`);
      if ((await phaseOf(frame)) === 'lobby' && (await dialog(page, OPENID_DIALOG).count()) === 0) await join.click({ timeout: 1000 }).catch(() => {});
      const openId = dialog(page, OPENID_DIALOG);
      if ((await openId.count()) > 0)
        await openId
          .getByRole('button', { name: 'Continue' })
          .click()
          .catch(() => {});
      const capabilities = dialog(page, CAPABILITIES_DIALOG);
      if ((await capabilities.count()) > 0)
        await capabilities
          .getByRole('button', { name: 'Approve' })
          .click()
          .catch(() => {});
      await page.waitForTimeout(200);
    }
    const callId = await callIdOf(frame);
    assert.ok(callId);
    await e.screenshot(page, 'element-reopened-in-call');

    const settled = await eventually(
      'every call event but the admitted one to be ended',
      async () => {
        const calls = await callsInRoom(e, since);
        return calls.length > 0 && calls.every((call) => call.status !== 'pending') ? calls : undefined;
      },
      40_000,
    );
    t.diagnostic(`call events sent for this call: ${settled.length} (Element 1.12.7 sends a duplicate after a reopen)`);
    const active = settled.filter((call) => call.status === 'active');
    assert.deepEqual(
      active.map((call) => call.eventId),
      [parseCallId(callId).eventId],
      "exactly one call is active: the widget's",
    );
    assert.ok(settled.every((call) => call.status === 'active' || call.status === 'ended'));
    if (settled.length > 1)
      assert.ok(
        settled.every((call) => call.content.encryptionKey === active[0]!.content.encryptionKey),
        'the others were its duplicates',
      );

    await frame.locator('oracle-call').getByRole('button', { name: 'Hang up' }).click();
    await waitForPhase(frame, 'ended', 15_000);
    await eventually('the backend to end the call', async () => (await e.stack.backend.store.get(callId))?.status === 'ended');
    const after = await callsInRoom(e, since);
    assert.deepEqual(
      after.filter((call) => call.status === 'pending'),
      [],
      'no call event is left pending',
    );
  });
});

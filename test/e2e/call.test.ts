import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RoomServiceClient } from 'livekit-server-sdk';
import type { Frame, Page } from 'playwright-core';
import { CALL_EVENT_TYPE, currentCallState, parseCallId } from '../../protocol/index.ts';
import type { CallEventContent } from '../../protocol/index.ts';
import { elementText, listenForMarker, waitForPhase } from '../../scripts/stack/page-probes.ts';
import { useE2E } from '../helpers/e2e.ts';
import type { E2E } from '../helpers/e2e.ts';
import type { StoredEvent } from '../helpers/synapse-admin.ts';
import { eventually } from '../helpers/wait.ts';

type Scope = Page | Frame;

function callIdOf(scope: Scope): Promise<string | undefined> {
  return scope.evaluate(() => (document.querySelector('oracle-call') as unknown as { state?: { callId?: string } } | null)?.state?.callId);
}

function errorOf(scope: Scope): Promise<{ reason?: string; message?: string; detail?: string } | undefined> {
  return scope.evaluate(
    () =>
      (document.querySelector('oracle-call') as unknown as { state?: { error?: { reason?: string; message?: string; detail?: string } } } | null)?.state?.error,
  );
}

async function agentIn(e: E2E, roomName: string): Promise<boolean> {
  const { livekit } = e.stack;
  const participants = await new RoomServiceClient(livekit.httpUrl, livekit.apiKey, livekit.apiSecret).listParticipants(roomName).catch(() => []);
  return participants.some((p) => p.identity.startsWith('agent-'));
}

/**
 * The call's state in Matrix: the event and its edits, decrypted by another device of the person's;
 * undefined while a room key has not reached it yet.
 */
async function matrixState(e: E2E, callId: string) {
  const { eventId } = parseCallId(callId);
  const { reader, roomId } = e.user;
  const [original, edits] = await Promise.all([reader.event(roomId, eventId), reader.edits(roomId, eventId, CALL_EVENT_TYPE)]);
  if (!original || !edits) return undefined;
  return currentCallState(original, edits, { editors: [e.stack.oracle.userId] });
}

/** Every key of a JSON value, at any depth. */
function keysOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) keysOf(item, into);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) keysOf(inner, into.add(key));
  }
  return into;
}

const CALL_FIELDS = ['encryptionKey', 'callType', 'userDid', 'oracleDid', 'callStatus', 'callId', 'sessionId'];

/**
 * What Synapse stores of the call is ciphertext: the call event and its edits are `m.room.encrypted`,
 * no stored event of the room carries a call field or one of the call's values in clear, and the only
 * clear part, the edits' `m.relates_to` (the spec keeps it outside the ciphertext), holds the relation alone.
 */
async function assertStoredEncrypted(e: E2E, callId: string): Promise<void> {
  const { eventId, roomName } = parseCallId(callId);
  const original = await e.user.reader.event(e.user.roomId, eventId);
  assert.ok(original, "the person's other device decrypts the call event");
  const content = original.content as unknown as CallEventContent;
  const values = [content.encryptionKey, content.sessionId, content.userDid, content.oracleDid, roomName, callId];
  const stored = await e.storedEvents();
  const relationOf = (event: StoredEvent) => (event.content as { 'm.relates_to'?: Record<string, unknown> })['m.relates_to'];
  const call = stored.filter((event) => event.event_id === eventId || relationOf(event)?.event_id === eventId);
  assert.ok(call.length >= 3, `Synapse holds the call event and its edits to active and ended (found ${call.length})`);
  assert.deepEqual([...new Set(call.map((event) => event.type))], ['m.room.encrypted']);
  assert.ok(
    call.some((event) => event.sender === e.stack.oracle.userId),
    "the backend's edit is among them, encrypted",
  );
  for (const event of stored) {
    assert.notEqual(event.type, CALL_EVENT_TYPE, `${event.event_id} is a call event in clear`);
    const keys = keysOf(event.content);
    assert.deepEqual(
      CALL_FIELDS.filter((field) => keys.has(field)),
      [],
      `${event.event_id} (${event.type}) carries call fields in clear`,
    );
    const text = JSON.stringify(event);
    assert.deepEqual(
      values.filter((value) => text.includes(value)),
      [],
      `${event.event_id} (${event.type}) carries a value of the call in clear`,
    );
    const relation = relationOf(event);
    if (relation) assert.deepEqual(Object.keys(relation).sort(), ['event_id', 'rel_type'], `${event.event_id}: m.relates_to holds more than the relation`);
  }
}

/** A whole call in `scope` (the page, or the widget's frame): call, hear the echo, hang up, cleaned up everywhere. */
async function wholeCall(e: E2E, page: Page, scope: Scope, name: string): Promise<void> {
  const element = scope.locator('oracle-call');
  // Counts the page's requests for a microphone and a camera (the lobby's and LiveKit's go through this one method).
  await scope.evaluate(() => {
    const devices = navigator.mediaDevices;
    const open = devices.getUserMedia.bind(devices);
    const counted = window as unknown as { opened: { audio: number; video: number } };
    counted.opened = { audio: 0, video: 0 };
    devices.getUserMedia = (constraints) => {
      if (constraints?.audio) counted.opened.audio += 1;
      if (constraints?.video) counted.opened.video += 1;
      return open(constraints);
    };
  });
  const deviceOpens = () => scope.evaluate(() => (window as unknown as { opened: { audio: number; video: number } }).opened);
  await element.getByRole('button', { name: 'Start video call' }).click();
  // The lobby: the camera's preview, then another microphone and speaker than the default ones.
  await waitForPhase(scope, 'lobby', 10_000);
  await element.locator('[part="preview-video"]').waitFor({ timeout: 15_000 });
  await element.getByLabel('Microphone', { exact: true }).selectOption({ label: 'Fake Audio Input 2' });
  await element.getByLabel('Speaker', { exact: true }).selectOption({ label: 'Fake Audio Output 1' });
  await eventually(
    'the preview to use the chosen microphone',
    async () => (await element.getByLabel('Microphone', { exact: true }).locator('option:checked').textContent()) === 'Fake Audio Input 2',
  );
  await e.screenshot(page, `${name}-lobby`);
  const openedInLobby = await deviceOpens();
  assert.ok(openedInLobby.audio >= 1 && openedInLobby.video >= 1, 'the lobby opened the microphone and the camera');
  await element.getByRole('button', { name: 'Join call' }).click();
  await waitForPhase(scope, 'in-call', 45_000);
  assert.deepEqual(await deviceOpens(), openedInLobby, "the call took the lobby's microphone and camera: no device was opened again");
  await element.getByRole('button', { name: 'Devices' }).click();
  assert.equal(
    await element.getByLabel('Microphone', { exact: true }).locator('option:checked').textContent(),
    'Fake Audio Input 2',
    'the call uses the microphone chosen in the lobby',
  );
  await element.getByRole('button', { name: 'Devices' }).click();
  const callId = await callIdOf(scope);
  assert.ok(callId, 'the element knows its callId');
  assert.match(await elementText(scope), /End-to-end encrypted/);
  await e.screenshot(page, `${name}-in-call`);

  const inMatrix = await eventually('the call event and its edits to be readable in clear', () => matrixState(e, callId));
  assert.equal(inMatrix.sender, e.user.userId, 'the call event in Synapse was sent by the person');
  assert.equal(inMatrix.status, 'active', 'the backend edited the event to active');
  assert.equal((await e.stack.backend.store.get(callId))?.status, 'active');
  assert.equal(await agentIn(e, parseCallId(callId).roomName), true, 'the agent joined');

  // The fake microphone repeats the utterance every 6.5 s; the oracle says each one back.
  const heard = await listenForMarker(scope, 14_000);
  assert.ok(heard.streams >= 1, "the page plays the oracle's audio");
  assert.ok(
    heard.markerMs >= 1000,
    `the oracle's audio carries the page's own voice back (marker heard ${heard.markerMs} ms, ${heard.markerDb.toFixed(1)} dB over its neighbours)`,
  );

  await scope.locator('oracle-call').getByRole('button', { name: 'Hang up' }).click();
  await waitForPhase(scope, 'ended', 15_000);
  await e.screenshot(page, `${name}-ended`);
  await eventually('the Matrix event to be edited to ended', async () => (await matrixState(e, callId))?.status === 'ended');
  await eventually('the backend to end the call', async () => (await e.stack.backend.store.get(callId))?.status === 'ended');
  await eventually('the agent to leave', async () => !(await agentIn(e, parseCallId(callId).roomName)));
  await assertStoredEncrypted(e, callId);
}

describe('a whole call in headless Chromium, in an encrypted room (real Synapse, LiveKit, backend, agent)', () => {
  const e2e = useE2E();

  /**
   * What the browser refused under a page's Content-Security-Policy (it reports each in the console),
   * and the URLs of the workers the page (or its frames) started.
   */
  function watchPolicy(page: Page): { refused: string[]; workers: string[] } {
    const refused: string[] = [];
    const workers: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
    });
    page.on('worker', (worker) => workers.push(worker.url()));
    return { refused, workers };
  }

  it("the script-tag page with a strict CSP, the element pinned by SRI from the oracle's origin: call, hear the oracle echo the fake microphone, hang up", async () => {
    const e = e2e();
    const page = await e.newPage();
    // The demo site's script tag names the oracle's origin (the backend's, which serves the built
    // element), as a site's does: the element, its chunks and its E2EE worker come from another origin
    // than the page's, the entry pinned to this build by its SRI hash.
    const oracleOrigin = new URL(e.stack.backend.url).origin;
    const { refused, workers } = watchPolicy(page);
    const elementFiles: string[] = [];
    page.on('requestfinished', (request) => {
      if (request.url().startsWith(oracleOrigin)) elementFiles.push(new URL(request.url()).pathname);
    });
    const response = await page.goto(e.pages.pageUrl);
    const policy = (await response?.allHeaders())?.['content-security-policy'] ?? '';
    assert.match(policy, /script-src 'self' \S+ 'wasm-unsafe-eval'; worker-src blob: \S+;/, 'the page has a strict policy');
    assert.doesNotMatch(policy, /'unsafe-inline'|'unsafe-eval'/);
    await page.getByText(`Signed in as ${e.user.userId}`).waitFor({ timeout: 30_000 });
    assert.match((await page.locator('#who').textContent()) ?? '', /the room with the oracle is end-to-end encrypted/);
    assert.equal(await waitForPhase(page, 'idle'), 'idle');
    await e.screenshot(page, 'page-idle');
    await wholeCall(e, page, page, 'page');
    assert.ok(
      elementFiles.some((file) => /^\/oracle-call-[\w-]{10}\.js$/.test(file)),
      `the element came from the oracle's origin, its content-hashed entry (${elementFiles.join(', ')})`,
    );
    assert.ok(
      elementFiles.some((file) => /e2ee\.worker/.test(file)),
      `the E2EE worker's code came from the oracle's origin (${elementFiles.join(', ')})`,
    );
    assert.ok(!elementFiles.some((file) => /adapter_core/.test(file)), `this Chromium loads no webrtc-adapter shims (${elementFiles.join(', ')})`);
    assert.ok(
      workers.length > 0 && workers.every((url) => url.startsWith('blob:')),
      `the worker started from a blob: module of the page (${workers.join(', ')})`,
    );
    assert.deepEqual(refused, [], 'the browser refused nothing under the policy');
  });

  it("the script-tag page serving its own copy of the element under worker-src 'self' (a site that bundles the package), in a browser without client hints (webrtc-adapter's shims): a whole call", async () => {
    const e = e2e();
    const page = await e.newPage();
    const { refused, workers } = watchPolicy(page);
    // As Firefox and Safari are (no User-Agent Client Hints): the element runs webrtc-adapter's shims
    // before LiveKit, as LiveKit itself would, and the call works with them in place.
    // (A string: the test's compiled functions may name helpers the page does not have.)
    await page.addInitScript(`Object.defineProperty(Navigator.prototype, 'userAgentData', { get: () => undefined });`);
    const shims: string[] = [];
    page.on('requestfinished', (request) => {
      if (/\/assets\/adapter_core-[\w-]+\.js$/.test(request.url())) shims.push(request.url());
    });
    const response = await page.goto(e.pages.selfHostedPageUrl);
    const policy = (await response?.allHeaders())?.['content-security-policy'] ?? '';
    assert.match(policy, /script-src 'self' 'wasm-unsafe-eval'; worker-src 'self';/, `the page's policy (${policy})`);
    await page.getByText(`Signed in as ${e.user.userId}`).waitFor({ timeout: 30_000 });
    assert.equal(await page.evaluate(() => 'userAgentData' in navigator && navigator.userAgentData === undefined), true, 'the page has no client hints');
    await wholeCall(e, page, page, 'self-hosted');
    assert.ok(
      workers.length > 0 && workers.every((url) => url.startsWith(`${e.pages.siteUrl}/assets/`)),
      `the E2EE worker started from the site's own origin (${workers.join(', ')})`,
    );
    assert.equal(shims.length, 1, `webrtc-adapter's shims loaded once, from the site (${shims.join(', ')})`);
    assert.deepEqual(refused, [], 'the browser refused nothing under the policy');
  });

  it("the widget host page: the same call through the widget API, the widget page served by the backend with worker-src 'self'", async () => {
    const e = e2e();
    const page = await e.newPage();
    const { refused, workers } = watchPolicy(page);
    const widgetPolicy = new Promise<string>((resolve) =>
      page.on('response', (response) => {
        if (response.url().startsWith(e.pages.widgetUrl)) void response.allHeaders().then((headers) => resolve(headers['content-security-policy'] ?? ''));
      }),
    );
    await page.goto(e.pages.hostUrl);
    await page.getByText(/Widget ready/).waitFor({ timeout: 30_000 });
    const frame = page.frames().find((f) => f.url().startsWith(new URL(e.pages.widgetUrl).origin));
    assert.ok(frame, "the widget runs in a frame on the oracle's origin");
    assert.notEqual(new URL(frame.url()).origin, new URL(page.url()).origin);
    const policy = await widgetPolicy;
    assert.match(policy, /script-src 'self'; worker-src 'self';/, `the widget page's policy (${policy})`);
    await waitForPhase(frame, 'idle');
    await wholeCall(e, page, frame, 'widget');
    assert.match((await page.locator('#capabilities').textContent()) ?? '', /sent a call event/);
    const oracleOrigin = new URL(e.stack.backend.url).origin;
    assert.ok(
      workers.some((url) => url.startsWith(`${oracleOrigin}/assets/`)),
      `the widget's E2EE worker started from its own origin (${workers.join(', ')})`,
    );
    assert.deepEqual(refused, [], 'the browser refused nothing under either policy');
  });

  describe("the demo pages' Matrix device", () => {
    const pageClient = (page: Page) =>
      page.evaluate(async () => {
        const client = (
          document.querySelector('oracle-call') as unknown as {
            matrixClient: { getDeviceId(): string; getCrypto(): { getOwnDeviceKeys(): Promise<{ ed25519: string }> } };
          }
        ).matrixClient;
        return { deviceId: client.getDeviceId(), ed25519: (await client.getCrypto().getOwnDeviceKeys()).ed25519 };
      });
    const signedIn = async (page: Page) => {
      await page.goto(e2e().pages.pageUrl);
      await page.getByText('Signed in as').waitFor({ timeout: 30_000 });
      return pageClient(page);
    };
    const devices = async () =>
      (await e2e().user.matrix.request<{ devices: { device_id: string }[] }>('GET', '/_matrix/client/v3/devices')).devices.map((d) => d.device_id);

    it('one per browser, with its keys kept; another browser profile gets its own; a second tab a temporary one', async () => {
      const e = e2e();
      const page = await e.newPage();
      const first = await signedIn(page);
      await page.reload();
      await page.getByText('Signed in as').waitFor({ timeout: 30_000 });
      assert.deepEqual(await pageClient(page), first, 'a reload keeps the device and its keys');

      const tab = await page.context().newPage();
      const second = await signedIn(tab);
      assert.notEqual(second.deviceId, first.deviceId, 'a second tab does not share the device (nor its crypto store)');
      await tab.close();
      // Its logout on pagehide may be lost on a busy machine; the next load of the demo logs it out then.
      await page.reload();
      await eventually("the second tab's device to be logged out", async () => !(await devices()).includes(second.deviceId));

      // A tab that crashes sends nothing: its device stays until the demo loads again in the browser.
      const crashing = await page.context().newPage();
      const third = await signedIn(crashing);
      const cdp = await page.context().newCDPSession(crashing);
      void cdp.send('Page.crash').catch(() => undefined);
      await eventually('the crashed tab to be gone', async () => crashing.evaluate(() => false).catch(() => true), 10_000);
      assert.ok((await devices()).includes(third.deviceId), "the crashed tab's device is not logged out by itself");
      await page.reload();
      await page.getByText('Signed in as').waitFor({ timeout: 30_000 });
      await eventually("the crashed tab's device to be logged out at the next load", async () => !(await devices()).includes(third.deviceId));
      assert.deepEqual(await pageClient(page), first, 'the browser keeps its own device');

      const other = await signedIn(await e.newPage());
      assert.notEqual(other.deviceId, first.deviceId, 'another browser profile logs in a device of its own');
      assert.ok((await devices()).includes(first.deviceId));
    });
  });

  describe('failures show the right message and leave nothing open', () => {
    async function failedCall(page: Page, setup: (page: Page) => Promise<void> = async () => {}) {
      await page.goto(e2e().pages.pageUrl);
      await page.getByText('Signed in as').waitFor({ timeout: 30_000 });
      await setup(page);
      // Straight into the call (the lobby is the happy path's): these are failures of the call itself.
      await page.evaluate(() => document.querySelector('oracle-call')!.setAttribute('no-lobby', ''));
      await page.locator('oracle-call').getByRole('button', { name: 'Start audio call' }).click();
      await waitForPhase(page, 'error', 60_000);
      return { error: await errorOf(page), text: await elementText(page), callId: await callIdOf(page) };
    }

    it('the backend is down', async () => {
      const page = await e2e().newPage();
      const { error, text } = await failedCall(page, (p) =>
        p.evaluate(() => document.querySelector('oracle-call')!.setAttribute('backend-url', 'http://127.0.0.1:9')),
      );
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
      await eventually('the Matrix event to be edited to ended', async () => (await matrixState(e, callId))?.status === 'ended');
      await eventually('the backend to end the call', async () => (await e.stack.backend.store.get(callId))?.status === 'ended');
      await e.screenshot(page, 'error-livekit-unreachable');
    });

    it('a page whose policy refuses the E2EE worker: the call fails at once as not encrypted, naming the policy; the call is ended', async () => {
      const e = e2e();
      const page = await e.newPage();
      // The site's policy as a site might first write it: blob: workers allowed, the oracle's origin not.
      // (Chromium takes a page fulfilled here for a public one: it may reach loopback only with leave.)
      await page.context().grantPermissions(['local-network-access']);
      await page.route(e.pages.pageUrl, async (route) => {
        const response = await route.fetch();
        const headers = response.headers();
        headers['content-security-policy'] = headers['content-security-policy']!.replace(/worker-src [^;]+/, 'worker-src blob:');
        await route.fulfill({ response, headers });
      });
      const started = Date.now();
      const { error, callId } = await failedCall(page);
      assert.equal(error?.reason, 'not-encrypted');
      assert.match(error?.detail ?? '', /E2EE worker did not start.*worker-src/);
      assert.ok(Date.now() - started < 25_000, 'it fails before the oracle timeout would');
      assert.ok(callId);
      await eventually('the backend to end the call', async () => (await e.stack.backend.store.get(callId))?.status === 'ended');
      await e.screenshot(page, 'error-worker-refused');
    });

    it('the oracle never joins: a timeout, then the same cleanup', async () => {
      const e = e2e();
      await e.agent?.stop();
      e.agent = undefined;
      const page = await e.newPage();
      const { error, callId } = await failedCall(page, (p) => p.evaluate(() => document.querySelector('oracle-call')!.setAttribute('oracle-timeout', '6')));
      assert.equal(error?.reason, 'oracle-timeout');
      assert.ok(callId);
      await eventually('the Matrix event to be edited to ended', async () => (await matrixState(e, callId))?.status === 'ended');
      await eventually('the backend to end the call', async () => (await e.stack.backend.store.get(callId))?.status === 'ended');
      await e.screenshot(page, 'error-oracle-timeout');
    });
  });
});

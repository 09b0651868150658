/**
 * A call whose LiveKit connection is cut (Playwright routes the page's LiveKit WebSocket through the
 * test, which closes it and refuses new ones while "cut"): a short cut shows "Reconnecting…" and the
 * call goes on, the oracle's echo heard again; a cut longer than `reconnect-timeout` ends the call as
 * `connection-lost`, and the backend records that reason.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WebSocketRoute } from 'playwright-core';
import { listenForMarker, waitForPhase } from '../../scripts/stack/page-probes.ts';
import { useE2E } from '../helpers/e2e.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('reconnection in headless Chromium (real Synapse, LiveKit, backend, agent)', () => {
  const e2e = useE2E();

  it('a 5 s cut: Reconnecting…, then the echo again; a long cut: the call ends with its reason, recorded by the backend', async () => {
    const e = e2e();
    const page = await e.newPage();
    let cut = false;
    const open = new Set<{ page: WebSocketRoute; server: WebSocketRoute }>();
    // While cut, the page's new connections hang, as over a dead network; they fail when it is back.
    const held: WebSocketRoute[] = [];
    await page.routeWebSocket(new RegExp(`^${e.stack.livekit.url}`), (ws) => {
      if (cut) return void held.push(ws);
      open.add({ page: ws, server: ws.connectToServer() });
    });
    const restore = async () => {
      cut = false;
      for (const ws of held.splice(0)) await ws.close({ code: 1011, reason: 'cut by the test' }).catch(() => {});
    };
    const cutNow = async () => {
      cut = true;
      for (const pair of open) {
        await pair.server.close().catch(() => {});
        await pair.page.close({ code: 1011, reason: 'cut by the test' }).catch(() => {});
      }
      open.clear();
    };

    const log: string[] = [];
    page.on('console', (message) => {
      if (/reconnect|resum|signal|disconnect/i.test(message.text())) log.push(`${new Date().toISOString().slice(11, 23)} ${message.text().slice(0, 200)}`);
    });
    await page.goto(e.pages.pageUrl);
    await page.getByText('Signed in as').waitFor({ timeout: 30_000 });
    await page.evaluate(() => {
      const element = document.querySelector('oracle-call')!;
      element.setAttribute('no-lobby', '');
      element.setAttribute('reconnect-timeout', '25');
    });
    await page.locator('oracle-call').getByRole('button', { name: 'Start audio call' }).click();
    await waitForPhase(page, 'in-call', 45_000);
    const callId = await page.evaluate(() => (document.querySelector('oracle-call') as unknown as { state: { callId: string } }).state.callId);

    await cutNow();
    await waitForPhase(page, 'reconnecting', 20_000);
    assert.match((await page.locator('oracle-call').locator('[part="status-text"]').textContent()) ?? '', /Reconnecting…/);
    assert.ok(await page.locator('oracle-call').locator('[part="timer"]').isVisible(), 'the timer stays');
    await e.screenshot(page, 'page-reconnecting');
    await sleep(5000);
    await restore();
    await waitForPhase(page, 'in-call', 40_000).catch((error: Error) => {
      throw new Error(`${error.message}\nthe page's connection log:\n${log.join('\n')}`);
    });
    const heard = await listenForMarker(page, 20_000);
    assert.ok(heard.markerMs >= 1000, `the oracle echoes again after the cut (marker heard ${heard.markerMs} ms)`);
    assert.equal((await e.stack.backend.store.get(callId))?.status, 'active');

    await cutNow();
    await waitForPhase(page, 'error', 60_000);
    const error = await page.evaluate(
      () => (document.querySelector('oracle-call') as unknown as { state: { error: { reason: string; detail?: string } } }).state.error,
    );
    assert.equal(error.reason, 'connection-lost');
    await e.screenshot(page, 'page-connection-lost');
    const deadline = Date.now() + 20_000;
    let record = await e.stack.backend.store.get(callId);
    while (record?.status !== 'ended' && Date.now() < deadline) {
      await sleep(250);
      record = await e.stack.backend.store.get(callId);
    }
    assert.equal(record?.status, 'ended');
    assert.equal(record?.endReason, 'user: connection_lost');
  });
});

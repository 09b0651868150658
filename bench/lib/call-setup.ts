/**
 * The whole stack for bench/call.ts, without node:test: the start-up steps of test/helpers/e2e.ts's
 * `useE2E()` (Synapse, LiveKit, backend, the agent worker, the built pages on two origins, headless
 * Chromium with the fake microphone speaking the marker utterance), plus a tiny static server for the
 * bare LiveKit page (livekit-client's UMD build and its E2EE worker, on a loopback origin so that the
 * page is a secure context).
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CHROMIUM_FLAGS, installChromium } from '../../scripts/services/chromium.ts';
import { buildPages, startDemoServers } from '../../scripts/services/demo-server.ts';
import type { DemoServers } from '../../scripts/services/demo-server.ts';
import { registerUser } from '../../scripts/services/matrix-admin.ts';
import { freeTcpPort } from '../../scripts/services/process.ts';
import { startAgent } from '../../test/helpers/agent-process.ts';
import type { AgentProcess } from '../../test/helpers/agent-process.ts';
import { startStack, stopStack } from '../../test/helpers/backend.ts';
import type { Stack } from '../../test/helpers/backend.ts';
import { CAPTURE_STREAMS, MARKER_WAV } from '../../test/helpers/e2e.ts';
import { TestMatrixClient } from '../../test/helpers/matrix-client.ts';

/**
 * Init script for every page: records each MediaStream the page plays (as e2e.ts does), every
 * RTCPeerConnection it makes (for getStats) and the time of the last click (capture phase, so it is the
 * first listener to see the click on a button inside the element's shadow root).
 */
export const INSTRUMENT_PAGE = `${CAPTURE_STREAMS}
(() => {
  const pcs = (window.__pcs = []);
  const Original = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); pcs.push(this); }
  };
  document.addEventListener('click', () => { window.__clickAt = performance.now(); }, true);
})();`;

export interface CallSetup {
  readonly stack: Stack;
  readonly pages: DemoServers;
  readonly agent: AgentProcess;
  readonly browser: Browser;
  /** The origin serving the bare LiveKit page (`/`), `/livekit-client.umd.js` and `/e2ee-worker.mjs`. */
  readonly bareUrl: string;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);

async function startBareServer(): Promise<Server> {
  const dist = path.dirname(require.resolve('livekit-client'));
  const files: Record<string, { file?: string; body?: string; type: string }> = {
    '/': { body: '<!doctype html><meta charset="utf-8"><title>bare</title><script src="/livekit-client.umd.js"></script>', type: 'text/html' },
    '/livekit-client.umd.js': { file: path.join(dist, 'livekit-client.umd.js'), type: 'text/javascript' },
    '/e2ee-worker.mjs': { file: path.join(dist, 'livekit-client.e2ee.worker.mjs'), type: 'text/javascript' },
  };
  const server = createServer((req, res) => {
    const entry = files[new URL(req.url ?? '/', 'http://x').pathname];
    if (!entry) {
      res.writeHead(404).end();
      return;
    }
    (entry.file ? readFile(entry.file) : Promise.resolve(Buffer.from(entry.body!))).then(
      (body) => res.writeHead(200, { 'content-type': entry.type }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.listen(0, '127.0.0.1', () => resolve());
    server.once('error', reject);
  });
  return server;
}

/**
 * Brings everything up; `progress` reports each step. On failure whatever had started is stopped.
 * `closing` is filled in as parts start, so a watchdog can stop a half-started setup.
 */
export async function startCallSetup(progress: (message: string) => void, closing: { close?: () => Promise<void> }): Promise<CallSetup> {
  let stack: Stack | undefined;
  let agent: AgentProcess | undefined;
  let pages: DemoServers | undefined;
  let browser: Browser | undefined;
  let bare: Server | undefined;
  const contexts: BrowserContext[] = [];
  const close = async () => {
    await Promise.all(contexts.map((context) => context.close().catch(() => {})));
    await browser?.close().catch(() => {});
    await agent?.stop().catch(() => {});
    await pages?.close().catch(() => {});
    if (bare) await new Promise<void>((resolve) => (bare!.close(() => resolve()), bare!.closeAllConnections()));
    await stopStack(stack).catch(() => {});
  };
  closing.close = close;
  try {
    const started = performance.now();
    const [sitePort, widgetPort] = [await freeTcpPort(), await freeTcpPort()];
    stack = await startStack({
      CORS_ORIGINS: `http://127.0.0.1:${sitePort},http://127.0.0.1:${widgetPort}`,
      LOG_LEVEL: 'warn',
      MATRIX_REQUIRE_ENCRYPTION: 'true',
    });
    progress(`stack up (Synapse, LiveKit server, backend) (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    const account = await registerUser(stack.synapse.baseUrl, stack.synapse.registrationSharedSecret, 'visitor');
    const matrix = new TestMatrixClient(stack.synapse.baseUrl, account.userId, account.accessToken);
    // Encrypted, as a real deployment is: the time to a call includes Megolm key sharing.
    const roomId = await matrix.createRoom({ name: 'visitor ↔ oracle', invite: [stack.oracle.userId], encrypted: true });
    await stack.oracle.joinRoom(roomId);
    const s = stack;
    const [startedAgent, chromiumPath] = await Promise.all([
      startAgent(s).then((a) => (agent = a)),
      installChromium(),
      buildPages(),
    ]);
    progress(`agent worker registered, pages built (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    pages = await startDemoServers(
      { backendUrl: s.backend.url, homeserverUrl: s.synapse.baseUrl, userId: account.userId, password: account.password, roomId },
      { site: sitePort, widget: widgetPort },
    );
    bare = await startBareServer();
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [...CHROMIUM_FLAGS, '--autoplay-policy=no-user-gesture-required', `--use-file-for-fake-audio-capture=${MARKER_WAV}`],
    });
    const b = browser;
    return {
      stack: s,
      pages,
      agent: startedAgent,
      browser: b,
      bareUrl: `http://127.0.0.1:${(bare.address() as AddressInfo).port}`,
      async newPage() {
        const context = await b.newContext({ viewport: { width: 900, height: 820 } });
        contexts.push(context);
        await context.addInitScript(INSTRUMENT_PAGE);
        return context.newPage();
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

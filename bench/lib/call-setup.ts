/**
 * The whole stack for bench/call.ts: the browser stack of the end-to-end tests (Synapse, LiveKit,
 * backend, the agent worker, the built pages on two origins, headless Chromium with the fake microphone
 * speaking the marker utterance, from scripts/stack/browser-stack.ts), plus a tiny static server for the
 * bare LiveKit page (livekit-client's UMD build and its E2EE worker, on a loopback origin so that the
 * page is a secure context).
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { DemoServers } from '../../scripts/services/demo-server.ts';
import type { AgentProcess } from '../../scripts/stack/agent-process.ts';
import { startBrowserStack } from '../../scripts/stack/browser-stack.ts';
import type { BrowserStack } from '../../scripts/stack/browser-stack.ts';
import { CAPTURE_STREAMS } from '../../scripts/stack/page-probes.ts';
import type { Stack } from '../../scripts/stack/stack.ts';

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
 * Brings everything up (scripts/stack/browser-stack.ts, as the end-to-end tests do) plus the bare page's
 * server; `progress` reports each step. On failure whatever had started is stopped. `closing` is
 * filled in as parts start, so a watchdog can stop a half-started setup.
 */
export async function startCallSetup(progress: (message: string) => void, closing: { close?: () => Promise<void> }): Promise<CallSetup> {
  let started: BrowserStack | undefined;
  let browser: Browser | undefined;
  let bare: Server | undefined;
  const contexts: BrowserContext[] = [];
  const close = async () => {
    await Promise.all(contexts.map((context) => context.close().catch(() => {})));
    await browser?.close().catch(() => {});
    if (bare) await new Promise<void>((resolve) => (bare!.close(() => resolve()), bare!.closeAllConnections()));
    await started?.stop();
  };
  const stackClosing: { close?: () => Promise<void> } = {};
  closing.close = async () => {
    await close();
    await stackClosing.close?.();
  };
  try {
    started = await startBrowserStack({ logLevel: 'info', progress, closing: stackClosing });
    bare = await startBareServer();
    browser = await started.launch();
    const b = browser;
    return {
      stack: started.stack,
      pages: started.pages,
      agent: started.agent,
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

/**
 * End to end, everything real (scripts/stack/browser-stack.ts): Synapse, the LiveKit server, the
 * backend, the agent worker, the built pages served on two origins, and headless Chromium whose fake
 * microphone speaks the utterance with a 1 kHz marker (so the oracle's echo can be recognised in the
 * page with a WebAudio analyser).
 *
 * The person's room with the oracle is end-to-end encrypted, as the demo's is. Each browser context
 * logs the person in as a device of its own (the demo pages' design); a device of the person's in the
 * test process reads the call events in clear, and a Synapse admin reads what the homeserver stores.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { DemoServers } from '../../scripts/services/demo-server.ts';
import { PROJECT_ROOT } from '../../scripts/services/paths.ts';
import type { AgentProcess } from '../../scripts/stack/agent-process.ts';
import { startBrowserStack } from '../../scripts/stack/browser-stack.ts';
import type { BrowserStack } from '../../scripts/stack/browser-stack.ts';
import type { MatrixRestClient } from '../../scripts/stack/matrix-client.ts';
import { CAPTURE_STREAMS } from '../../scripts/stack/page-probes.ts';
import type { Stack } from '../../scripts/stack/stack.ts';
import { DecryptingDevice } from './matrix-e2ee.ts';
import { SynapseAdmin } from './synapse-admin.ts';
import type { StoredEvent } from './synapse-admin.ts';

export const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts/e2e');

export interface E2E {
  readonly stack: Stack;
  readonly pages: DemoServers;
  readonly user: {
    readonly userId: string;
    /** The person's password (to sign in elsewhere: Element) and first device's access token. */
    readonly password: string;
    readonly accessToken: string;
    readonly matrix: MatrixRestClient;
    /** The person's encrypted room with the oracle. */
    readonly roomId: string;
    /** Another device of the person's, made before any call: reads the room's events in clear. */
    readonly reader: DecryptingDevice;
  };
  /** The room's events as Synapse stores them (read as a server admin). */
  storedEvents(): Promise<StoredEvent[]>;
  agent: AgentProcess | undefined;
  readonly browser: Browser;
  /** A new browser context (own permissions) and page; `media: false` denies camera and microphone. */
  newPage(options?: { media?: boolean }): Promise<Page>;
  screenshot(page: Page, name: string): Promise<void>;
}

export interface E2EOptions {
  readonly backendEnv?: Record<string, string>;
  /** The LiveKit server's media over TCP only (scripts/services/livekit.ts `tcpOnly`). */
  readonly livekitTcpOnly?: boolean;
  /** More Chromium flags for the browser with media (read when it launches, after the file's earlier `before` hooks). */
  readonly browserArgs?: () => readonly string[];
}

export function useE2E(options: E2EOptions = {}): () => E2E {
  let e2e: E2E | undefined;
  let started: BrowserStack | undefined;
  let denyingBrowser: Browser | undefined;
  let reader: DecryptingDevice | undefined;
  const contexts: BrowserContext[] = [];
  before(async () => {
    started = await startBrowserStack({
      logLevel: 'info',
      ...(options.backendEnv ? { backendEnv: options.backendEnv } : {}),
      ...(options.livekitTcpOnly ? { livekitTcpOnly: true } : {}),
    });
    const { stack, pages, person } = started;
    const admin = await SynapseAdmin.register(stack.synapse);
    reader = await DecryptingDevice.start(stack.synapse.baseUrl, person.account);
    const browser = await started.launch({ args: options.browserArgs?.() ?? [] });
    const launchDenying = started.launch.bind(started, { media: false });
    mkdirSync(ARTIFACTS, { recursive: true });
    e2e = {
      stack,
      pages,
      user: {
        userId: person.account.userId,
        password: person.account.password,
        accessToken: person.account.accessToken,
        matrix: person.matrix,
        roomId: person.roomId,
        reader,
      },
      storedEvents: () => admin.roomEvents(person.roomId),
      agent: started.agent,
      browser,
      async newPage(options = {}) {
        const media = options.media ?? true;
        const target = media ? browser : (denyingBrowser ??= await launchDenying());
        const context = await target.newContext({ viewport: { width: 900, height: 820 }, ...(media ? {} : { permissions: [] }) });
        contexts.push(context);
        await context.addInitScript(CAPTURE_STREAMS);
        return context.newPage();
      },
      async screenshot(page, name) {
        await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
      },
    };
  });
  after(async () => {
    await Promise.all(contexts.map((context) => context.close().catch(() => {})));
    await e2e?.browser.close().catch(() => {});
    await denyingBrowser?.close().catch(() => {});
    reader?.stop();
    // A test may have stopped or replaced the agent (e2e.agent); the stack stops the one it started.
    if (e2e?.agent && e2e.agent !== started?.agent) await e2e.agent.stop();
    await started?.stop();
  });
  return () => {
    if (!e2e) throw new Error('the end-to-end setup did not start (see the error above)');
    return e2e;
  };
}

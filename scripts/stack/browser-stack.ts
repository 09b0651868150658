/**
 * Everything a call in a browser needs, on loopback: the local stack (Synapse, LiveKit server, backend),
 * a person with an end-to-end encrypted room shared with the oracle, the agent worker, the built pages
 * on two origins (the demo site; the element and the widget page from the backend), and headless Chromium whose fake
 * microphone speaks the marker utterance. The end-to-end tests and `bench:call` both start here.
 */
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { CHROMIUM_FLAGS, installChromium } from '../services/chromium.ts';
import { buildPages, startDemoServers } from '../services/demo-server.ts';
import type { DemoServers } from '../services/demo-server.ts';
import { registerUser } from '../services/matrix-admin.ts';
import type { MatrixAccount } from '../services/matrix-admin.ts';
import { freeTcpPort } from '../services/process.ts';
import { startAgent } from './agent-process.ts';
import type { AgentProcess } from './agent-process.ts';
import { MatrixRestClient } from './matrix-client.ts';
import { MARKER_WAV } from './page-probes.ts';
import { startStack, stopStack } from './stack.ts';
import type { Stack } from './stack.ts';

export interface BrowserStack {
  readonly stack: Stack;
  readonly pages: DemoServers;
  readonly person: {
    readonly account: MatrixAccount;
    readonly matrix: MatrixRestClient;
    /** The person's end-to-end encrypted room with the oracle. */
    readonly roomId: string;
  };
  readonly agent: AgentProcess;
  /**
   * Headless Chromium with the fake camera and the microphone speaking {@link MARKER_WAV}; `media: false`
   * denies both; `args` are more flags (a proxy for its network).
   */
  launch(options?: { media?: boolean; args?: readonly string[] }): Promise<Browser>;
  /** Stops what {@link startBrowserStack} started (browsers launched by the caller are the caller's). */
  stop(): Promise<void>;
}

export interface BrowserStackOptions {
  /** The backend's log level. */
  readonly logLevel: string;
  /** More backend settings (e.g. the voices and languages the oracle offers). */
  readonly backendEnv?: Record<string, string>;
  /** The LiveKit server's media over TCP only (a test that sends the page's media through a TCP proxy). */
  readonly livekitTcpOnly?: boolean;
  /** Reports each long step. */
  readonly progress?: (message: string) => void;
  /** Filled in as parts start, so a watchdog can stop a half-started stack. */
  readonly closing?: { close?: () => Promise<void> };
}

export async function startBrowserStack(options: BrowserStackOptions): Promise<BrowserStack> {
  const progress = options.progress ?? (() => {});
  let stack: Stack | undefined;
  let agent: AgentProcess | undefined;
  let pages: DemoServers | undefined;
  const stop = async () => {
    await agent?.stop().catch(() => {});
    await pages?.close().catch(() => {});
    await stopStack(stack).catch(() => {});
  };
  if (options.closing) options.closing.close = stop;
  try {
    const started = performance.now();
    const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
    const sitePort = await freeTcpPort();
    stack = await startStack(
      {
        CORS_ORIGINS: `http://127.0.0.1:${sitePort}`,
        LOG_LEVEL: options.logLevel,
        MATRIX_REQUIRE_ENCRYPTION: 'true',
        ...options.backendEnv,
      },
      options.livekitTcpOnly ? { livekitTcpOnly: true } : {},
    );
    progress(`stack up (Synapse, LiveKit server, backend) (${seconds()})`);
    const { baseUrl, registrationSharedSecret } = stack.synapse;
    const account = await registerUser(baseUrl, registrationSharedSecret, 'visitor');
    const matrix = new MatrixRestClient(baseUrl, account.userId, account.accessToken);
    // Encrypted, as a real deployment is: a call includes Megolm key sharing.
    const roomId = await matrix.createRoom({ name: 'visitor ↔ oracle', invite: [stack.oracle.userId], encrypted: true });
    await stack.oracle.joinRoom(roomId);
    const running = stack;
    const [startedAgent, chromiumPath] = await Promise.all([startAgent(running).then((a) => (agent = a)), installChromium(), buildPages({ reuse: true })]);
    progress(`agent worker registered, pages built (${seconds()})`);
    pages = await startDemoServers(
      { backendUrl: running.backend.url, homeserverUrl: baseUrl, userId: account.userId, password: account.password, roomId },
      { port: sitePort, livekitUrl: running.livekit.url },
    );
    return {
      stack: running,
      pages,
      person: { account, matrix, roomId },
      agent: startedAgent,
      launch: ({ media = true, args = [] } = {}) =>
        chromium.launch({
          executablePath: chromiumPath,
          headless: true,
          args: [
            ...CHROMIUM_FLAGS.filter((flag) => media || flag !== '--use-fake-ui-for-media-stream'),
            '--autoplay-policy=no-user-gesture-required',
            `--use-file-for-fake-audio-capture=${MARKER_WAV}`,
            ...args,
          ],
        }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * End to end, everything real: Synapse, the LiveKit server, the backend, the agent worker, the built
 * pages served on two origins, and headless Chromium whose fake microphone speaks the utterance with
 * a 1 kHz marker (so the oracle's echo can be recognised in the page with a WebAudio analyser).
 *
 * The person's room with the oracle is end-to-end encrypted, as the demo's is. Each browser context
 * logs the person in as a device of its own (the demo pages' design); a device of the person's in the
 * test process reads the call events in clear, and a Synapse admin reads what the homeserver stores.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { CHROMIUM_FLAGS, installChromium } from '../../scripts/services/chromium.ts';
import { buildPages, startDemoServers } from '../../scripts/services/demo-server.ts';
import type { DemoServers } from '../../scripts/services/demo-server.ts';
import { registerUser } from '../../scripts/services/matrix-admin.ts';
import { PROJECT_ROOT } from '../../scripts/services/paths.ts';
import { freeTcpPort } from '../../scripts/services/process.ts';
import { startAgent } from './agent-process.ts';
import type { AgentProcess } from './agent-process.ts';
import { startStack, stopStack } from './backend.ts';
import type { Stack } from './backend.ts';
import { TestMatrixClient } from './matrix-client.ts';
import { DecryptingDevice } from './matrix-e2ee.ts';
import { SynapseAdmin } from './synapse-admin.ts';
import type { StoredEvent } from './synapse-admin.ts';

export const MARKER_HZ = 1000;
export const MARKER_WAV = path.join(PROJECT_ROOT, 'test/fixtures/audio/utterance-marker-16k.wav');
export const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts/e2e');

export interface E2E {
  readonly stack: Stack;
  readonly pages: DemoServers;
  readonly user: {
    readonly userId: string;
    /** The person's password (to sign in elsewhere: Element) and first device's access token. */
    readonly password: string;
    readonly accessToken: string;
    readonly matrix: TestMatrixClient;
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

/**
 * Records every MediaStream a page plays (LiveKit plays the oracle's audio through an element it keeps
 * out of the DOM), so the test can listen to what the page receives.
 */
export const CAPTURE_STREAMS = `(() => {
  const streams = (window.__playedStreams = []);
  const descriptor = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, 'srcObject');
  Object.defineProperty(HTMLMediaElement.prototype, 'srcObject', {
    configurable: true,
    get() { return descriptor.get.call(this); },
    set(value) { if (value instanceof MediaStream) streams.push(value); descriptor.set.call(this, value); },
  });
})();`;

export function useE2E(): () => E2E {
  let e2e: E2E | undefined;
  let denyingBrowser: Browser | undefined;
  let reader: DecryptingDevice | undefined;
  const contexts: BrowserContext[] = [];
  before(async () => {
    const [sitePort, widgetPort] = [await freeTcpPort(), await freeTcpPort()];
    const stack = await startStack({
      CORS_ORIGINS: `http://127.0.0.1:${sitePort},http://127.0.0.1:${widgetPort}`,
      LOG_LEVEL: 'info',
      MATRIX_REQUIRE_ENCRYPTION: 'true',
    });
    const { baseUrl, registrationSharedSecret } = stack.synapse;
    const account = await registerUser(baseUrl, registrationSharedSecret, 'visitor');
    const admin = await SynapseAdmin.register(stack.synapse);
    const matrix = new TestMatrixClient(baseUrl, account.userId, account.accessToken);
    const roomId = await matrix.createRoom({ name: 'visitor ↔ oracle', invite: [stack.oracle.userId], encrypted: true });
    await stack.oracle.joinRoom(roomId);
    reader = await DecryptingDevice.start(baseUrl, account);
    const [agent, chromiumPath] = await Promise.all([startAgent(stack), installChromium(), buildPages()]);
    const pages = await startDemoServers(
      { backendUrl: stack.backend.url, homeserverUrl: baseUrl, userId: account.userId, password: account.password, roomId },
      { site: sitePort, widget: widgetPort },
    );
    const launch = (media: boolean) =>
      chromium.launch({
        executablePath: chromiumPath,
        headless: true,
        args: [
          ...CHROMIUM_FLAGS.filter((flag) => media || flag !== '--use-fake-ui-for-media-stream'),
          '--autoplay-policy=no-user-gesture-required',
          `--use-file-for-fake-audio-capture=${MARKER_WAV}`,
        ],
      });
    const browser = await launch(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    e2e = {
      stack,
      pages,
      user: { userId: account.userId, password: account.password, accessToken: account.accessToken, matrix, roomId, reader },
      storedEvents: () => admin.roomEvents(roomId),
      agent,
      browser,
      async newPage(options = {}) {
        const media = options.media ?? true;
        const target = media ? browser : (denyingBrowser ??= await launch(false));
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
    await e2e?.agent?.stop();
    await e2e?.pages.close();
    await stopStack(e2e?.stack);
  });
  return () => {
    if (!e2e) throw new Error('the end-to-end setup did not start (see the error above)');
    return e2e;
  };
}

type Scope = Page | Frame;

/** The element's current phase. */
export function phaseOf(scope: Scope): Promise<string | undefined> {
  return scope.evaluate(() => (document.querySelector('oracle-call') as unknown as { state?: { phase?: string } } | null)?.state?.phase);
}

/** Waits until the element reaches one of `phases`; fails with the phase it is stuck in. */
export async function waitForPhase(scope: Scope, phases: string | string[], timeoutMs = 30_000): Promise<string> {
  const wanted = Array.isArray(phases) ? phases : [phases];
  const deadline = Date.now() + timeoutMs;
  let phase: string | undefined;
  while (Date.now() < deadline) {
    phase = await phaseOf(scope);
    if (phase && wanted.includes(phase)) return phase;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const error = await scope.evaluate(() => JSON.stringify((document.querySelector('oracle-call') as unknown as { state?: { error?: unknown } } | null)?.state?.error ?? null));
  throw new Error(`the element stayed in "${phase}" instead of reaching ${wanted.join(' or ')} within ${timeoutMs} ms (error: ${error})`);
}

/** The element's visible text (its shadow root). */
export function elementText(scope: Scope): Promise<string> {
  return scope.evaluate(() => document.querySelector('oracle-call')?.shadowRoot?.textContent?.replace(/\s+/g, ' ').trim() ?? '');
}

export interface HeardAudio {
  /** How strongly the 1 kHz marker stood out of the received audio at its strongest (dB over its neighbours). */
  readonly markerDb: number;
  /** Milliseconds during which the received audio carried the marker. */
  readonly markerMs: number;
  readonly streams: number;
}

/**
 * Listens, inside the page, to every remote audio stream it plays for `durationMs`, with a WebAudio
 * analyser: how long, and how clearly, the fake microphone's 1 kHz marker comes back.
 */
export function listenForMarker(scope: Scope, durationMs: number): Promise<HeardAudio> {
  // Sent as source text: the test runner's TypeScript transform would otherwise wrap named functions
  // in a helper that does not exist in the page.
  return scope.evaluate(`(${LISTEN_IN_PAGE})(${durationMs}, ${MARKER_HZ})`) as Promise<HeardAudio>;
}

const LISTEN_IN_PAGE = `async function (durationMs, marker) {
  const remote = window.__playedStreams.filter((stream) => stream.getAudioTracks().some((track) => track.readyState === 'live'));
  const context = new AudioContext();
  await context.resume();
  const analysers = remote.map((stream) => {
    const analyser = context.createAnalyser();
    analyser.fftSize = 8192;
    analyser.smoothingTimeConstant = 0;
    context.createMediaStreamSource(stream).connect(analyser);
    return analyser;
  });
  const bin = (hz) => Math.round((hz / context.sampleRate) * 8192);
  const data = new Float32Array(4096);
  let markerDb = -Infinity;
  let markerMs = 0;
  const started = performance.now();
  while (performance.now() - started < durationMs) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const analyser of analysers) {
      analyser.getFloatFrequencyData(data);
      const at = Math.max(data[bin(marker) - 1], data[bin(marker)], data[bin(marker) + 1]);
      const around = [marker - 130, marker - 90, marker + 90, marker + 130].map((hz) => data[bin(hz)]);
      const prominence = at - around.reduce((a, b) => a + b, 0) / around.length;
      if (at > -70) markerDb = Math.max(markerDb, prominence);
      if (at > -70 && prominence > 15) markerMs += 50;
    }
  }
  await context.close();
  return { markerDb, markerMs, streams: remote.length };
}`;

/**
 * Looking into a page that runs `<oracle-call>` (Playwright): the element's phase and text, and what the
 * page hears. `CAPTURE_STREAMS` records every MediaStream a page plays (LiveKit plays the oracle's
 * audio through an element it keeps out of the DOM), so a test or benchmark can listen to it.
 */
import path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { PROJECT_ROOT } from '../services/paths.ts';

/** The fake microphone speaks this utterance, with a 1 kHz marker the oracle's echo carries back. */
export const MARKER_HZ = 1000;
export const MARKER_WAV = path.join(PROJECT_ROOT, 'test/fixtures/audio/utterance-marker-16k.wav');

/** Init script for a page: records each MediaStream it plays in `window.__playedStreams`. */
export const CAPTURE_STREAMS = `(() => {
  const streams = (window.__playedStreams = []);
  const descriptor = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, 'srcObject');
  Object.defineProperty(HTMLMediaElement.prototype, 'srcObject', {
    configurable: true,
    get() { return descriptor.get.call(this); },
    set(value) { if (value instanceof MediaStream) streams.push(value); descriptor.set.call(this, value); },
  });
})();`;

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
  const error = await scope.evaluate(() =>
    JSON.stringify((document.querySelector('oracle-call') as unknown as { state?: { error?: unknown } } | null)?.state?.error ?? null),
  );
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

/** Init script for a page: records each RTCPeerConnection it makes in `window.__peerConnections`. */
export const CAPTURE_PEER_CONNECTIONS = `(() => {
  const Native = window.RTCPeerConnection;
  const connections = (window.__peerConnections = []);
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); connections.push(this); }
  };
})();`;

export interface MediaPath {
  /** Audio bytes received so far over the page's open peer connections. */
  readonly inboundAudioBytes: number;
  /** The candidate pair each open peer connection sends its media over. */
  readonly pairs: readonly { readonly protocol: string; readonly remote: string; readonly candidateType: string }[];
}

/** How the page's media travels (needs {@link CAPTURE_PEER_CONNECTIONS}): bytes received and the ICE pairs in use. */
export function mediaPath(scope: Scope): Promise<MediaPath> {
  return scope.evaluate(`(${MEDIA_PATH_IN_PAGE})()`) as Promise<MediaPath>;
}

const MEDIA_PATH_IN_PAGE = `async function () {
  let inboundAudioBytes = 0;
  const pairs = [];
  for (const connection of window.__peerConnections) {
    if (connection.connectionState === 'closed') continue;
    const stats = await connection.getStats();
    stats.forEach((report) => {
      if (report.type === 'inbound-rtp' && report.kind === 'audio') inboundAudioBytes += report.bytesReceived ?? 0;
      if (report.type !== 'transport' || !report.selectedCandidatePairId) return;
      const pair = stats.get(report.selectedCandidatePairId);
      const remote = pair && stats.get(pair.remoteCandidateId);
      if (remote) pairs.push({ protocol: remote.protocol, remote: remote.address + ':' + remote.port, candidateType: remote.candidateType });
    });
  }
  return { inboundAudioBytes, pairs };
}`;

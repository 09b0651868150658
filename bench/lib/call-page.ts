/**
 * In-page timing for bench/call.ts. All code that runs in the page is source text (tsx's transform
 * would wrap named functions in a `__name` helper that does not exist in the page).
 *
 * The monitor polls every 10 ms (and getStats of every RTCPeerConnection made since it started that
 * receives audio) and
 * records, as `performance.now()` in the page:
 * - `inCall`: the element's phase became 'in-call' (call pages only);
 * - `played`: the page first handed a remote MediaStream to a media element (track subscribed, attached);
 * - `decoded`: the first inbound-rtp audio report with decoded, not concealed, samples
 *   (`totalSamplesReceived - concealedSamples > 0`): frames that got through the E2EE decryption
 *   transform and the Opus decoder (a frame that fails to decrypt is dropped before the decoder);
 * - `loud`: a WebAudio analyser on a played stream first saw signal above -50 dBFS RMS.
 */
import type { Page } from 'playwright-core';

export interface PageTimes {
  readonly start: number;
  readonly clickAt?: number;
  readonly inCall?: number;
  readonly played?: number;
  readonly decoded?: number;
  readonly loud?: number;
  readonly connected?: number;
  readonly subscribed?: number;
  readonly error?: string;
}

const MONITOR = `function () {
  if (window.__mon) window.__mon.done = true;
  const mon = (window.__mon = { start: performance.now(), done: false });
  const oldPcs = new Set(window.__pcs);
  const oldStreams = window.__playedStreams.length;
  const context = new AudioContext();
  void context.resume();
  const analysers = [];
  const samples = new Float32Array(2048);
  let watched = oldStreams;
  const tick = async () => {
    if (mon.done) { void context.close(); return; }
    const now = performance.now();
    const element = document.querySelector('oracle-call');
    if (mon.inCall === undefined && element && element.state && element.state.phase === 'in-call') mon.inCall = now;
    const streams = window.__playedStreams;
    for (; watched < streams.length; watched += 1) {
      const stream = streams[watched];
      if (!stream.getAudioTracks().length) continue;
      if (mon.played === undefined) mon.played = now;
      const analyser = context.createAnalyser();
      analyser.fftSize = 2048;
      context.createMediaStreamSource(stream).connect(analyser);
      analysers.push(analyser);
    }
    if (mon.loud === undefined) {
      for (const analyser of analysers) {
        analyser.getFloatTimeDomainData(samples);
        let energy = 0;
        for (const s of samples) energy += s * s;
        if (Math.sqrt(energy / samples.length) > 0.00316) { mon.loud = now; break; }
      }
    }
    if (mon.decoded === undefined) {
      for (const pc of window.__pcs) {
        if (oldPcs.has(pc) || pc.connectionState === 'closed') continue;
        // getStats is asked only once a remote audio track is being received: it is not cheap, and
        // asked every 10 ms during the whole set-up it took CPU from what it measures.
        if (!pc.getTransceivers().some((t) => t.receiver.track.kind === 'audio' && /recv/.test(t.currentDirection || ''))) continue;
        const stats = await pc.getStats();
        stats.forEach((report) => {
          if (report.type === 'inbound-rtp' && report.kind === 'audio' && mon.decoded === undefined
              && (report.totalSamplesReceived || 0) - (report.concealedSamples || 0) > 0) mon.decoded = now;
        });
      }
    }
    setTimeout(tick, 10);
  };
  void tick();
}`;

/** Starts (or restarts) the monitor in the page. */
export async function startMonitor(page: Page): Promise<void> {
  await page.evaluate(`(${MONITOR})()`);
}

export async function readTimes(page: Page): Promise<PageTimes> {
  return (await page.evaluate(`({ ...window.__mon, clickAt: window.__clickAt, done: undefined })`)) as PageTimes;
}

export async function stopMonitor(page: Page): Promise<void> {
  await page.evaluate(`window.__mon && (window.__mon.done = true)`);
}

/**
 * The bare join, in a blank page with livekit-client's UMD build: a new Room with E2EE (the same options
 * as the element: shared string key through PBKDF2, adaptive stream, dynacast), connect, attach every
 * subscribed audio track. Resolves once connected; the monitor (started just before) does the timing.
 */
const BARE_JOIN = `async function (url, token, key, extra) {
  const LK = window.LivekitClient;
  const mon = window.__mon;
  if (window.__room) { await window.__room.disconnect(); window.__room = undefined; }
  const keyProvider = new LK.ExternalE2EEKeyProvider();
  const room = new LK.Room({
    adaptiveStream: true,
    dynacast: true,
    encryption: { keyProvider, worker: new Worker('/e2ee-worker.mjs', { type: 'module' }) },
    ...extra,
  });
  window.__room = room;
  room.on(LK.RoomEvent.TrackSubscribed, (track) => {
    if (track.kind !== 'audio') return;
    if (mon.subscribed === undefined) mon.subscribed = performance.now();
    window.__bareElements = [...(window.__bareElements || []), track.attach()];
  });
  await keyProvider.setKey(key);
  await room.setE2EEEnabled(true);
  await room.connect(url, token, { autoSubscribe: true });
  mon.connected = performance.now();
  // The person's microphone, when prepared: published once connected, as the element does.
  const mic = window.__mic;
  window.__mic = undefined;
  if (mic) await room.localParticipant.publishTrack(mic);
}`;

export async function bareJoin(page: Page, url: string, token: string, key: string, roomOptions: Record<string, unknown> = {}): Promise<void> {
  await page.evaluate(`(${BARE_JOIN})(${JSON.stringify(url)}, ${JSON.stringify(token)}, ${JSON.stringify(key)}, ${JSON.stringify(roomOptions)})`);
}

/** Opens the page's (fake) microphone for the next join to publish; untimed, as the element's media is ready before its call is announced. */
export async function prepareMicrophone(page: Page): Promise<void> {
  await page.evaluate(`(async () => { [window.__mic] = await window.LivekitClient.createLocalTracks({ audio: true }); })()`);
}

export async function bareLeave(page: Page): Promise<void> {
  await page.evaluate(`(async () => {
    for (const element of window.__bareElements || []) element.srcObject = null;
    window.__bareElements = [];
    if (window.__room) await window.__room.disconnect();
    window.__room = undefined;
    window.__mic?.stop();
    window.__mic = undefined;
  })()`);
}

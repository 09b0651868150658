/**
 * Recognises a known utterance in audio that went through a call (Opus, the browser's noise
 * suppression, the agent's voice activity detection): not by its bytes, which the trip changes, but
 * by the shape of its loudness over time. Each reference WAV's 20 ms energy envelope, trimmed to its
 * speech, is slid over the received audio's; the best Pearson correlation decides.
 */
import type { Pcm } from './wav.ts';

const FRAME_MS = 20;

/** RMS per 20 ms frame, in dB (loudness shape, independent of the overall gain). */
export function envelope({ sampleRate, samples }: Pcm): number[] {
  const frame = Math.round((sampleRate * FRAME_MS) / 1000);
  const out: number[] = [];
  for (let start = 0; start + frame <= samples.length; start += frame) {
    let sum = 0;
    for (let i = start; i < start + frame; i += 1) sum += (samples[i]! / 32768) ** 2;
    out.push(10 * Math.log10(sum / frame + 1e-9));
  }
  return out;
}

/** The frames from the first to the last within 30 dB of the loudest: the speech, without the silences. */
export function trimToSpeech(env: number[]): number[] {
  const peak = Math.max(...env);
  const first = env.findIndex((value) => value > peak - 30);
  let last = env.length - 1;
  while (last > first && env[last]! <= peak - 30) last -= 1;
  return first < 0 ? [] : env.slice(first, last + 1);
}

function pearson(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  if (n < 10) return 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i += 1) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < n; i += 1) {
    num += (a[i]! - ma) * (b[i]! - mb);
    da += (a[i]! - ma) ** 2;
    db += (b[i]! - mb) ** 2;
  }
  return da === 0 || db === 0 ? 0 : num / Math.sqrt(da * db);
}

/**
 * How well `reference` (a trimmed envelope) matches somewhere in `received`: the best correlation
 * over every alignment where at least 80% of the reference overlaps the received audio.
 */
export function similarity(reference: number[], received: number[]): number {
  const minOverlap = Math.ceil(reference.length * 0.8);
  let best = 0;
  for (let lag = -(reference.length - minOverlap); lag <= received.length - minOverlap; lag += 1) {
    const refStart = Math.max(0, -lag);
    const recStart = Math.max(0, lag);
    const n = Math.min(reference.length - refStart, received.length - recStart);
    if (n < minOverlap) continue;
    best = Math.max(best, pearson(reference.slice(refStart, refStart + n), received.slice(recStart, recStart + n)));
  }
  return best;
}

/** A correlation above this is the same utterance; unrelated speech stays well below it. */
export const MATCH_THRESHOLD = 0.6;

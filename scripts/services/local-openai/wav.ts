/** 16-bit PCM WAV in and out, and the resampling the local server needs (no sox or ffmpeg). */

export interface Pcm {
  readonly sampleRate: number;
  /** Mono samples (a stereo file is averaged). */
  readonly samples: Int16Array;
}

/**
 * Reads a 16-bit PCM WAV. Lenient about sizes, since `espeak-ng --stdout` writes placeholder sizes
 * (it cannot seek back): the data chunk runs to the end of what was read.
 */
export function parseWav(bytes: Uint8Array): Pcm {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('not a WAV file');
  let offset = 12;
  let sampleRate = 0;
  let channels = 1;
  while (offset + 8 <= bytes.length) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (view.getUint16(body, true) !== 1 || view.getUint16(body + 14, true) !== 16) throw new Error('only 16-bit PCM WAV is supported');
      channels = view.getUint16(body + 2, true);
      sampleRate = view.getUint32(body + 4, true);
    } else if (id === 'data') {
      if (!sampleRate) throw new Error('WAV data before its format');
      const end = Math.min(bytes.length, body + size);
      const frames = Math.floor((end - body) / (2 * channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i += 1) {
        let sum = 0;
        for (let c = 0; c < channels; c += 1) sum += view.getInt16(body + (i * channels + c) * 2, true);
        samples[i] = Math.round(sum / channels);
      }
      return { sampleRate, samples };
    }
    offset = body + size + (size % 2);
  }
  throw new Error('WAV without data');
}

export function encodeWav({ sampleRate, samples }: Pcm): Uint8Array {
  const out = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(out.buffer);
  const write = (at: number, text: string) => {
    for (let i = 0; i < text.length; i += 1) out[at + i] = text.charCodeAt(i);
  };
  write(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  write(8, 'WAVE');
  write(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  write(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  out.set(rawPcm(samples), 44);
  return out;
}

/** Little-endian 16-bit samples, as OpenAI's `pcm` response format. */
export function rawPcm(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i += 1) view.setInt16(i * 2, samples[i]!, true);
  return out;
}

/** Linear-interpolation resampling: plenty for speech checked by ear and by a spectrum analyser. */
export function resample({ sampleRate, samples }: Pcm, to: number): Pcm {
  if (sampleRate === to) return { sampleRate, samples };
  const length = Math.floor((samples.length * to) / sampleRate);
  const out = new Int16Array(length);
  for (let i = 0; i < length; i += 1) {
    const at = (i * sampleRate) / to;
    const left = Math.floor(at);
    const right = Math.min(samples.length - 1, left + 1);
    const t = at - left;
    out[i] = Math.round((samples[left] ?? 0) * (1 - t) + (samples[right] ?? 0) * t);
  }
  return { sampleRate: to, samples: out };
}

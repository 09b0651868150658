/** Sine tones and their detection (Goertzel), to prove what audio crossed an encrypted call. */

export function sineFrame(frequency: number, sampleRate: number, samples: number, startSample: number, amplitude = 0.5): Int16Array {
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i += 1) {
    out[i] = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * frequency * (startSample + i)) / sampleRate));
  }
  return out;
}

/** Power of one frequency in the samples (Goertzel), normalised by the number of samples. */
export function goertzelPower(samples: ArrayLike<number>, sampleRate: number, frequency: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * frequency) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i += 1) {
    const s0 = (samples[i] ?? 0) + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - coefficient * s1 * s2) / samples.length;
}

export function rms(samples: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i += 1) sum += (samples[i] ?? 0) ** 2;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

/** The strongest frequency between `min` and `max` Hz, in `step` Hz steps. */
export function dominantFrequency(samples: ArrayLike<number>, sampleRate: number, min = 100, max = 3000, step = 10): number {
  let best = min;
  let bestPower = -1;
  for (let f = min; f <= max; f += step) {
    const power = goertzelPower(samples, sampleRate, f);
    if (power > bestPower) {
      bestPower = power;
      best = f;
    }
  }
  return best;
}

/**
 * How much of the signal's energy sits at `frequency` (0..1). A clean sine scores near 1; silence,
 * noise or garbage score near 0.
 */
export function toneShare(samples: ArrayLike<number>, sampleRate: number, frequency: number): number {
  const energy = rms(samples) ** 2;
  if (energy === 0) return 0;
  // A sine of amplitude A has Goertzel power ≈ A²·N/4 and mean energy A²/2.
  return Math.min(1, goertzelPower(samples, sampleRate, frequency) / ((energy * samples.length) / 2));
}

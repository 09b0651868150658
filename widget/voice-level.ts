/**
 * The oracle's voice level, for the small visualizer beside its state: a WebAudio analyser on the
 * decrypted track, read once per animation frame into the `--level` custom property (0 to 1) of the
 * element it is given. Nothing is recorded or kept; the audio graph is torn down with the track.
 */
export class VoiceLevel {
  #track: MediaStreamTrack | null = null;
  #target: HTMLElement | null = null;
  #context: AudioContext | undefined;
  #frame = 0;

  /** Follows `track` (or stops, for null), writing its level onto `target`. */
  follow(track: MediaStreamTrack | null, target: HTMLElement | null): void {
    if (track === this.#track && target === this.#target) return;
    this.stop();
    this.#track = track;
    this.#target = target;
    if (!track || !target || typeof AudioContext === 'undefined') return;
    const context = new AudioContext();
    this.#context = context;
    // The person started the call with a click, so the page may run audio; resume in case it began suspended.
    void context.resume().catch(() => undefined);
    const analyser = context.createAnalyser();
    analyser.fftSize = 512;
    context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    const data = new Float32Array(analyser.fftSize);
    const tick = () => {
      analyser.getFloatTimeDomainData(data);
      let sum = 0;
      for (const sample of data) sum += sample * sample;
      // Speech sits around -30 to -10 dBFS: map that range onto 0..1.
      const db = 10 * Math.log10(sum / data.length + 1e-10);
      target.style.setProperty('--level', Math.max(0, Math.min(1, (db + 50) / 40)).toFixed(2));
      this.#frame = requestAnimationFrame(tick);
    };
    this.#frame = requestAnimationFrame(tick);
  }

  stop(): void {
    cancelAnimationFrame(this.#frame);
    void this.#context?.close().catch(() => undefined);
    this.#context = undefined;
    this.#track = null;
    this.#target = null;
  }
}

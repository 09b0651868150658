/**
 * The oracle's picture in video calls: a generated frame, a glowing disc on a dark field whose size
 * and brightness follow the oracle's voice level, so a person sees that the oracle is there and when
 * it speaks. Cheap to draw (a few hundred microseconds a frame at 320×240).
 */
import { LocalVideoTrack, TrackPublishOptions, TrackSource, VideoBufferType, VideoFrame, VideoSource } from '@livekit/rtc-node';
import type { Room } from '@livekit/rtc-node';

const WIDTH = 320;
const HEIGHT = 240;
const FPS = 15;

/** Draws one RGBA frame for a voice level between 0 and 1. Exported for tests. */
export function drawAvatar(level: number, out = new Uint8Array(WIDTH * HEIGHT * 4)): Uint8Array {
  const clamped = Math.max(0, Math.min(1, level));
  const radius = 40 + 50 * clamped;
  const cx = WIDTH / 2;
  const cy = HEIGHT / 2;
  for (let y = 0; y < HEIGHT; y += 1) {
    for (let x = 0; x < WIDTH; x += 1) {
      const d = Math.hypot(x - cx, y - cy);
      const glow = d < radius ? 1 : Math.max(0, 1 - (d - radius) / 30);
      const i = (y * WIDTH + x) * 4;
      out[i] = 20 + Math.round(glow * (90 + 120 * clamped));
      out[i + 1] = 16 + Math.round(glow * (60 + 60 * clamped));
      out[i + 2] = 40 + Math.round(glow * 200);
      out[i + 3] = 255;
    }
  }
  return out;
}

export interface Avatar {
  stop(): Promise<void>;
}

/** Publishes the avatar track and redraws it at 15 fps from `level()` until stopped. */
export async function publishAvatar(room: Room, level: () => number): Promise<Avatar> {
  const source = new VideoSource(WIDTH, HEIGHT);
  const track = LocalVideoTrack.createVideoTrack('oracle-avatar', source);
  const options = new TrackPublishOptions();
  options.source = TrackSource.SOURCE_CAMERA;
  await room.localParticipant!.publishTrack(track, options);
  const buffer = new Uint8Array(WIDTH * HEIGHT * 4);
  const timer = setInterval(() => {
    source.captureFrame(new VideoFrame(drawAvatar(level(), buffer), WIDTH, HEIGHT, VideoBufferType.RGBA));
  }, 1000 / FPS);
  return {
    async stop() {
      clearInterval(timer);
      await track.close().catch(() => {});
      await source.close().catch(() => {});
    },
  };
}

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Room } from '@livekit/rtc-node';
import { generateCallKey, generateRoomName } from '../../protocol/index.ts';
import { SAMPLE_RATE, closeRtc, firstRemoteAudioTrack, joinEncrypted, publishTone, recordAudio } from '../../scripts/stack/participants.ts';
import { useLiveKit } from '../helpers/services.ts';
import { dominantFrequency, rms, toneShare } from '../../scripts/stack/tone.ts';

const TONE_HZ = 440;

describe('LiveKit shared-key E2EE between rtc-node participants (real LiveKit server)', () => {
  const livekit = useLiveKit();
  const rooms: Room[] = [];
  after(() => closeRtc(rooms));

  it('carries a tone to a participant with the same call key, and not to one with another key', async () => {
    const roomName = generateRoomName();
    const callKey = generateCallKey();
    const speaker = await joinEncrypted(livekit(), roomName, 'speaker', callKey);
    const listener = await joinEncrypted(livekit(), roomName, 'listener', callKey);
    const intruder = await joinEncrypted(livekit(), roomName, 'intruder', generateCallKey());
    rooms.push(speaker, listener, intruder);
    const tone = await publishTone(speaker, TONE_HZ);
    try {
      const [heard, overheard] = await Promise.all([
        firstRemoteAudioTrack(listener, 'speaker').then((track) => recordAudio(track, 1000)),
        firstRemoteAudioTrack(intruder, 'speaker').then((track) => recordAudio(track, 1000)),
      ]);

      assert.ok(heard.length >= SAMPLE_RATE * 0.9, `listener got ${heard.length} samples`);
      assert.ok(rms(heard) > 1000, `listener's audio is loud enough (rms ${rms(heard).toFixed(0)})`);
      const frequency = dominantFrequency(heard, SAMPLE_RATE);
      assert.ok(Math.abs(frequency - TONE_HZ) <= 10, `listener hears ${frequency} Hz, expected ${TONE_HZ} Hz`);
      assert.ok(toneShare(heard, SAMPLE_RATE, TONE_HZ) > 0.8, 'the tone dominates what the listener hears');

      const share = toneShare(overheard, SAMPLE_RATE, TONE_HZ);
      assert.ok(share < 0.2, `the intruder must not recover the tone (tone share ${share.toFixed(2)}, rms ${rms(overheard).toFixed(0)}, ${overheard.length} samples)`);
    } finally {
      await tone.stop();
    }
  });
});

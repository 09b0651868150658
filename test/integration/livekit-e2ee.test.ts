import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Room, RoomEvent } from '@livekit/rtc-node';
import { CHAT_TOPIC, TRANSCRIPTION_TOPIC, generateCallKey, generateRoomName } from '../../protocol/index.ts';
import { SAMPLE_RATE, closeRtc, firstRemoteAudioTrack, joinEncrypted, participantToken, publishTone, recordAudio } from '../../scripts/stack/participants.ts';
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
      assert.ok(
        share < 0.2,
        `the intruder must not recover the tone (tone share ${share.toFixed(2)}, rms ${rms(overheard).toFixed(0)}, ${overheard.length} samples)`,
      );
    } finally {
      await tone.stop();
    }
  });

  it('carries text streams (the transcript, the chat) readable with the call key only: not with another key, not without E2EE', async () => {
    const roomName = generateRoomName();
    const callKey = generateCallKey();
    const speaker = await joinEncrypted(livekit(), roomName, 'speaker', callKey);
    const listener = await joinEncrypted(livekit(), roomName, 'listener', callKey);
    const intruder = await joinEncrypted(livekit(), roomName, 'intruder', generateCallKey());
    const plain = new Room();
    await plain.connect(livekit().url, await participantToken(livekit(), roomName, 'no-e2ee'), { autoSubscribe: true, dynacast: false });
    rooms.push(speaker, listener, intruder, plain);
    const seen = new Map<string, string[]>();
    for (const [name, room] of [
      ['listener', listener],
      ['intruder', intruder],
      ['no-e2ee', plain],
    ] as const) {
      const texts: string[] = [];
      seen.set(name, texts);
      for (const topic of [TRANSCRIPTION_TOPIC, CHAT_TOPIC]) {
        room.registerTextStreamHandler(
          topic,
          (reader) =>
            void reader.readAll().then(
              (text) => texts.push(text),
              (error: Error) => texts.push(`<${error.message}>`),
            ),
        );
      }
      room.on(RoomEvent.DataReceived, (payload) => texts.push(Buffer.from(payload).toString('latin1')));
    }
    // Everyone sees everyone before the text goes out (generous: the machine may be busy).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await speaker.localParticipant!.sendText('the secret chat 8841', { topic: CHAT_TOPIC });
    await speaker.localParticipant!.sendText('the secret caption 5530', { topic: TRANSCRIPTION_TOPIC, attributes: { 'lk.transcription_final': 'true' } });
    const deadline = Date.now() + 20_000;
    while (seen.get('listener')!.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(seen.get('listener')!.slice().sort(), ['the secret caption 5530', 'the secret chat 8841']);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const name of ['intruder', 'no-e2ee']) {
      const text = seen.get(name)!.join('\n');
      assert.ok(!text.includes('8841') && !text.includes('5530') && !text.includes('secret'), `${name} read the text: ${text.slice(0, 200)}`);
    }
  });
});

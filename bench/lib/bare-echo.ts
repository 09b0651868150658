/**
 * bench:agent's baseline for the agent's CPU per call: the least an echo participant does, on bare
 * `@livekit/rtc-node` (no agents framework, no job processes, no VAD). In each room it is sent to, it
 * joins with E2EE under the call key (the agent's room options), subscribes to the person's audio and
 * republishes every frame it hears at once as its own microphone track: decrypt, decode, encode,
 * encrypt, as the oracle's media path does, and nothing else. It leaves a room when the person does.
 *
 * Run as its own process (`node bench/lib/bare-echo.ts`, see bare-echo-process.ts), so that its CPU is
 * read from /proc like the agent's. Commands come as JSON lines on stdin: `{"join": {url, token, key}}`
 * answers `joined <room>` on stdout once its track is published, and `left <room>` once it has left a
 * room its person left; `{"leave": true}` leaves every room and exits.
 */
import { createInterface } from 'node:readline';
import { AudioSource, AudioStream, LocalAudioTrack, Room, RoomEvent, TrackKind, TrackPublishOptions, TrackSource, dispose } from '@livekit/rtc-node';
import type { RemoteTrack } from '@livekit/rtc-node';
import { encryptedRoomOptions } from '../../scripts/stack/participants.ts';

const RATE = 48_000;
const rooms: Room[] = [];

async function join(url: string, token: string, key: string): Promise<string> {
  const room = new Room();
  rooms.push(room);
  const source = new AudioSource(RATE, 1);
  const echo = async (track: RemoteTrack) => {
    for await (const frame of new AudioStream(track, RATE, 1)) await source.captureFrame(frame);
  };
  room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
    if (track.kind === TrackKind.KIND_AUDIO) void echo(track).catch(() => {});
  });
  // It leaves when the person does, as the oracle does: a room left behind would go on costing CPU.
  room.on(RoomEvent.ParticipantDisconnected, () => {
    if (room.remoteParticipants.size > 0) return;
    const name = room.name ?? '';
    void room
      .disconnect()
      .then(() => source.close())
      .catch(() => {})
      .finally(() => process.stdout.write(`left ${name}\n`));
  });
  await room.connect(url, token, encryptedRoomOptions(key));
  const options = new TrackPublishOptions();
  options.source = TrackSource.SOURCE_MICROPHONE;
  await room.localParticipant!.publishTrack(LocalAudioTrack.createAudioTrack('echo', source), options);
  return room.name ?? '';
}

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { join?: { url: string; token: string; key: string }; leave?: boolean };
  if (command.join) {
    const { url, token, key } = command.join;
    join(url, token, key).then(
      (name) => process.stdout.write(`joined ${name}\n`),
      (error: Error) => process.stdout.write(`failed ${error.message}\n`),
    );
  }
  if (command.leave) break;
}
await Promise.all(rooms.map((room) => room.disconnect().catch(() => {})));
await dispose();
process.exit(0);

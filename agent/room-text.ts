/**
 * The oracle's side of the room's text for the brains that do not run the framework's voice session
 * (which does all this itself): its state attribute, transcript entries and chat messages.
 */
import type { Room } from '@livekit/rtc-node';
import {
  AGENT_STATE_ATTRIBUTE,
  CHAT_TOPIC,
  TRANSCRIBED_TRACK_ATTRIBUTE,
  TRANSCRIPTION_FINAL_ATTRIBUTE,
  TRANSCRIPTION_SEGMENT_ATTRIBUTE,
  TRANSCRIPTION_TOPIC,
} from '../protocol/index.ts';
import type { OracleState } from '../protocol/index.ts';

/** Publishes the oracle's state; a failure (the room closing) is not worth stopping the call for. */
export async function setOracleState(room: Room, state: OracleState): Promise<void> {
  await room.localParticipant?.setAttributes({ [AGENT_STATE_ATTRIBUTE]: state }).catch(() => {});
}

let segments = 0;

/** One final transcript entry of the oracle's, as the framework sends them (on the E2EE data channel). */
export async function sendTranscript(room: Room, text: string, trackSid?: string): Promise<void> {
  const attributes: Record<string, string> = {
    [TRANSCRIPTION_FINAL_ATTRIBUTE]: 'true',
    [TRANSCRIPTION_SEGMENT_ATTRIBUTE]: `SG_oracle_${Date.now().toString(36)}_${(segments++).toString(36)}`,
  };
  if (trackSid) attributes[TRANSCRIBED_TRACK_ATTRIBUTE] = trackSid;
  await room.localParticipant?.sendText(text, { topic: TRANSCRIPTION_TOPIC, attributes });
}

/** Calls `onMessage` with each chat message `identity` sends; returns the function that stops listening. */
export function onChat(room: Room, identity: string, onMessage: (text: string) => void): () => void {
  room.registerTextStreamHandler(CHAT_TOPIC, (reader, sender) => {
    if (sender.identity !== identity) return;
    void reader.readAll().then(onMessage, () => {});
  });
  return () => room.unregisterTextStreamHandler(CHAT_TOPIC);
}

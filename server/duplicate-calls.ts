/**
 * Duplicate call events: a client that sends the person's call event twice (Element 1.12 does, after
 * its widget card was closed and reopened: the old widget connection is never stopped and answers the
 * widget's send as well) leaves two identical `pending` events, same session, same encrypted key, same
 * LiveKit room. The person's page syncs one of them; the other can never be synced (the key is already
 * taken) and would stay `pending` for ever. The backend ends it, as the oracle, once the twin has been
 * admitted.
 *
 * The twin is told apart only by what the backend stored, so each new call event is looked at a little
 * after it arrives (its own sync usually follows within a second), and once more later.
 */
import type { Logger } from 'pino';
import { currentCallState, formatCallId, makeCallEdit } from '../protocol/index.ts';
import type { CallContent } from '../protocol/index.ts';
import type { OracleMatrix, RoomEvent } from './matrix/client.ts';
import type { CallStore } from './store/call-store.ts';

/** When a new call event is looked at again, after it arrived. */
export const DUPLICATE_CHECKS_MS: readonly number[] = [5_000, 30_000];

export class DuplicateCalls {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly store: CallStore,
    private readonly matrix: OracleMatrix,
    private readonly log: Logger,
    private readonly checksMs: readonly number[] = DUPLICATE_CHECKS_MS,
  ) {}

  /** A call's first event seen in the Matrix sync (not an edit): checked later for a stored twin. */
  seen(event: RoomEvent & { readonly room_id: string }): void {
    let content: CallContent;
    try {
      content = currentCallState(event, []).content;
    } catch {
      return; // Not a call event the protocol accepts: nothing the backend would ever admit.
    }
    if (content.callStatus !== 'pending') return;
    this.schedule(event, content, 0);
  }

  private schedule(event: RoomEvent & { readonly room_id: string }, content: CallContent, attempt: number): void {
    const delay = this.checksMs[attempt];
    if (delay === undefined || this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.check(event, content).then(
        (settled) => {
          if (!settled) this.schedule(event, content, attempt + 1);
        },
        (error: Error) => this.log.warn({ eventId: event.event_id, err: error.message }, 'a duplicate call event could not be ended'),
      );
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  /** True once there is nothing more to do for the event (it is the stored call, a stranger's, or ended now). */
  private async check(event: RoomEvent & { readonly room_id: string }, content: CallContent): Promise<boolean> {
    if (this.stopped) return true;
    const record = await this.store.findByRoomName(content.roomId);
    if (!record) return false;
    if (record.eventId === event.event_id) return true;
    const twin =
      record.userId === event.sender &&
      record.matrixRoomId === event.room_id &&
      record.sessionId === content.sessionId &&
      record.encryptionKey === content.encryptionKey;
    // Another event naming a stored call's room but not its twin is someone's replay: never admitted, left alone.
    if (!twin) return true;
    const state = currentCallState(event, await this.matrix.getEdits(event.room_id, event.event_id), { editors: [this.matrix.userId] });
    if (state.status === 'ended') return true;
    const callId = formatCallId({ eventId: event.event_id, roomName: content.roomId });
    const edit = makeCallEdit(event.event_id, state.content, { callStatus: 'ended', callId, callEndedAt: new Date().toISOString() });
    await this.matrix.sendCallEvent(event.room_id, edit);
    this.log.info({ eventId: event.event_id, twinCallId: record.callId }, 'a duplicate of a call event was ended');
    return true;
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

/**
 * The call rules of the backend: admitting a call from its Matrix event (sync), status changes from
 * the user, the agent, Matrix and LiveKit, and what the agent may learn (the still-encrypted key).
 */
import type { Logger } from 'pino';
import { CALL_EVENT_TYPE, assertEncryptedCallKeyShape, assertTransition, currentCallState, makeCallEdit, parseCallId } from '../protocol/index.ts';
import type { CallContent, CallStatus, MatrixEventLike } from '../protocol/index.ts';
import type { ApiCall, KeyAnswer, SyncAnswer, SyncBody, UpdateAnswer, UpdateBody, WebhookAnswer } from '../protocol/api/index.ts';
import { encodeDispatchMetadata } from '../protocol/api/dispatch-metadata.ts';
import type { ServerConfig } from './config.ts';
import { ApiError, fromMatrixError } from './errors.ts';
import { DuplicateCalls } from './duplicate-calls.ts';
import { DispatchFailedError, InvalidWebhookError, isAgent, lostConnection } from './livekit.ts';
import type { LiveKitGateway } from './livekit.ts';
import type { CallEventHandler, OracleMatrix, RoomEvent } from './matrix/client.ts';
import { RoomKeyUnavailable, UndecryptableEvent } from './matrix/decryption.ts';
import { OracleArrival } from './oracle-arrival.ts';
import { RecentIds } from './recent-ids.ts';
import { InvalidCursorError, StoreConflict } from './store/call-store.ts';
import type { CallRecord, CallStore, ListPage, ListQuery } from './store/call-store.ts';
import type { UserDidPolicy } from './user-did.ts';

/** A call as the API shows it: everything but the encrypted key and internal bookkeeping. */
export function publicCall(record: CallRecord): ApiCall {
  const {
    encryptionKey: _key,
    dispatchId: _dispatch,
    mirroredStatus: _mirrored,
    verifiedUserDid: _verified,
    claimedUserDid: _claimed,
    agentArrivedAt: _arrived,
    ...rest
  } = record;
  return rest;
}

/**
 * The agent's key answer for a call: the verified Matrix user, and a DID only as far as it is proven
 * (see user-did.ts): `userDid` when verified, `claimedUserDid` when merely claimed (USER_DID_POLICY=claim).
 */
export function keyAnswer({ encryptionKey, userId, verifiedUserDid, claimedUserDid, oracleDid, callType, agentVoice, language }: CallRecord): KeyAnswer {
  return {
    encryptionKey,
    userId,
    ...(verifiedUserDid ? { userDid: verifiedUserDid } : {}),
    ...(claimedUserDid ? { claimedUserDid } : {}),
    oracleDid,
    callType,
    ...(agentVoice ? { agentVoice } : {}),
    ...(language ? { language } : {}),
  };
}

export type Actor = { readonly kind: 'user'; readonly userId: string } | { readonly kind: 'agent' };

/** The call event's content for a stored call (its `roomId` is the LiveKit room name). */
function contentOf(record: CallRecord): CallContent {
  return {
    callType: record.callType,
    callStartedAt: record.callStartedAt,
    encryptionKey: record.encryptionKey,
    sessionId: record.sessionId,
    roomId: record.roomName,
    userDid: record.userDid,
    oracleDid: record.oracleDid,
    ...(record.agentVoice ? { agentVoice: record.agentVoice } : {}),
    ...(record.language ? { language: record.language } : {}),
    callStatus: record.status,
    callId: record.callId,
    ...(record.callEndedAt ? { callEndedAt: record.callEndedAt } : {}),
  };
}

const CONFLICT_MESSAGES = {
  call_id_taken: 'This callId belongs to another user',
  room_taken: 'This LiveKit room is already bound to another call',
  key_reused: 'This encrypted call key was already used by another call: every call needs a new key',
} as const;

/**
 * Why the agent ended a call: the person never came (`no_show`) is a reason of its own; anything else
 * is a failure of the agent (`agent_failed: key_decryption_failed`).
 */
function agentEndReason(reason: string): string {
  return reason === 'no_show' ? 'no_show' : `agent_failed: ${reason}`;
}

/** The value of a settled promise, or its error thrown. */
function settled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

export class CallService {
  private readonly duplicates: DuplicateCalls;
  private readonly arrival: OracleArrival;
  /** LiveKit webhook event IDs handled lately (far more than LiveKit sends within a signature's lifetime). */
  private readonly webhookIds = new RecentIds(10_000);

  constructor(
    private readonly config: ServerConfig,
    private readonly store: CallStore,
    private readonly matrix: OracleMatrix,
    private readonly livekit: LiveKitGateway,
    private readonly log: Logger,
    private readonly userDids: UserDidPolicy,
  ) {
    this.duplicates = new DuplicateCalls(store, matrix, log);
    this.arrival = new OracleArrival(config.oracleArrivalSeconds, config.oracleAcceptSeconds, store, livekit, log, (callId, reason) =>
      this.end(callId, reason, true),
    );
  }

  /** A call event from the Matrix sync: an edit may end a call; a first event may be a duplicate to end. */
  readonly applyMatrixEvent: CallEventHandler = async (event) => {
    const content = event.content as { 'm.relates_to'?: unknown } | undefined;
    if (content && typeof content === 'object' && 'm.relates_to' in content) return this.applyMatrixEdit(event);
    this.duplicates.seen(event);
  };

  /** Stops the background work (duplicate checks, oracle arrivals); resolves once what is under way (an end mirrored to Matrix) is done. */
  async stop(): Promise<void> {
    this.duplicates.stop();
    await this.arrival.stop();
  }

  /**
   * Admits a call from its Matrix event (every check in the design), dispatches the agent, answers a room
   * token. Exclusive per call across every backend on the store: of two syncs of one call, the second
   * finds the first one's call and dispatch, so the agent is dispatched once.
   */
  sync(userId: string, callId: string, body: SyncBody): Promise<SyncAnswer> {
    const { eventId, roomName } = parseCallId(callId);
    const startedAt = performance.now();
    return this.store.exclusive(callId, async () => {
      const existing = await this.store.get(callId);
      if (existing) {
        if (existing.userId !== userId) throw ApiError.conflict('call_id_taken', CONFLICT_MESSAGES.call_id_taken);
        if (existing.matrixRoomId !== body.matrixRoomId || existing.sessionId !== body.sessionId) {
          throw ApiError.invalidEvent('call_mismatch', 'This call was synced with another Matrix room or session');
        }
        return this.finishSync(existing);
      }
      // Cheap refusals first: a user at the limit costs no Matrix request (checked again, atomically, at insert).
      if ((await this.store.countOpen(userId)) >= this.config.userMaxOpenCalls) throw this.tooManyOpenCalls();
      const matrixReadFrom = performance.now();
      if (!(await this.matrix.isJoined(body.matrixRoomId))) {
        throw ApiError.forbidden('oracle_not_in_room', "The oracle's Matrix account has not joined that room: invite it, and sync once it has joined");
      }
      // The three reads go out together; their answers are checked in this order, as if made one by one.
      const [read, encryption, editsRead] = await Promise.allSettled([
        this.readEvent(body.matrixRoomId, eventId),
        this.matrix.isRoomEncrypted(body.matrixRoomId),
        this.matrix.getEdits(body.matrixRoomId, eventId),
      ]);
      const event = settled(read);
      if (!event) {
        throw ApiError.notFound('event_not_found', 'No such event in that Matrix room (or the oracle is not in the room)');
      }
      const roomEncrypted = settled(encryption);
      if (!roomEncrypted && this.config.matrix.requireEncryption) {
        throw ApiError.invalidEvent(
          'room_not_encrypted',
          'The Matrix room is not end-to-end encrypted; this oracle takes calls only in encrypted rooms (turn encryption on in the room)',
        );
      }
      if (roomEncrypted && !event.encrypted) {
        throw ApiError.invalidEvent('unencrypted_event', 'The room is encrypted, but the call event was sent in clear');
      }
      const content = this.checkEvent(event, userId, roomName, body);
      const dids = await this.userDids.check(userId, content.userDid);
      const state = currentCallState(event, settled(editsRead), { editors: [this.matrix.userId] });
      if (state.status === 'ended') throw ApiError.conflict('call_ended', 'The call event was already edited to ended');
      const matrixReadMs = performance.now() - matrixReadFrom;
      const now = new Date().toISOString();
      const record: CallRecord = {
        callId,
        eventId,
        roomName,
        matrixRoomId: body.matrixRoomId,
        userId,
        userDid: content.userDid,
        ...dids,
        oracleDid: content.oracleDid,
        sessionId: content.sessionId,
        callType: content.callType,
        ...(content.agentVoice ? { agentVoice: content.agentVoice } : {}),
        ...(content.language ? { language: content.language } : {}),
        encryptionKey: content.encryptionKey,
        status: 'pending',
        callStartedAt: content.callStartedAt,
        createdAt: now,
        updatedAt: now,
      };
      let stored: CallRecord;
      try {
        stored = await this.store.insert(record, { maxOpenPerUser: this.config.userMaxOpenCalls });
      } catch (error) {
        if (error instanceof StoreConflict) {
          const { conflict } = error;
          throw conflict === 'too_many_open_calls' ? this.tooManyOpenCalls() : ApiError.conflict(conflict, CONFLICT_MESSAGES[conflict]);
        }
        throw error;
      }
      this.log.info({ callId, userId, callType: stored.callType }, 'call stored');
      return this.finishSync(stored, { startedAt, matrixReadMs });
    });
  }

  private tooManyOpenCalls(): ApiError {
    return ApiError.tooManyRequests(
      'too_many_open_calls',
      `You already have ${this.config.userMaxOpenCalls} calls open: end one (or wait until the oracle leaves a call nobody joined) and try again`,
      this.config.noShowSeconds > 60 ? 30 : 10,
    );
  }

  /** The call event in clear; a missing room key is waited for (bounded), then answered 503. */
  private async readEvent(roomId: string, eventId: string): Promise<RoomEvent | undefined> {
    try {
      return await this.matrix.getEvent(roomId, eventId);
    } catch (error) {
      if (error instanceof RoomKeyUnavailable) {
        throw ApiError.unavailable(
          'room_key_unavailable',
          `The call event is encrypted and its Matrix room key has not reached the oracle's device (${this.matrix.deviceId}) after ${Math.round(error.waitedMs / 1000)} s; make sure your client shares keys with it, then sync again`,
          5,
        );
      }
      if (error instanceof UndecryptableEvent) {
        throw ApiError.invalidEvent('undecryptable_event', `The oracle's device cannot decrypt the call event (${error.reason})`);
      }
      throw error;
    }
  }

  private checkEvent(event: MatrixEventLike, userId: string, roomName: string, body: { sessionId: string }): CallContent {
    if (event.type !== CALL_EVENT_TYPE) {
      throw ApiError.invalidEvent('wrong_event_type', `The event is of type ${event.type}, not ${CALL_EVENT_TYPE}`);
    }
    if (event.sender !== userId) throw ApiError.forbidden('not_your_event', 'The call event was sent by another user');
    const raw = event.content as Record<string, unknown> | undefined;
    if (raw && typeof raw === 'object' && 'm.relates_to' in raw) {
      throw ApiError.invalidEvent('not_a_call_start', "The event is an edit; sync the call's first event");
    }
    const { content } = currentCallState(event, []);
    // The event's `roomId` is the LiveKit room name (the seed's wire name), not a Matrix room ID.
    const liveKitRoomName = content.roomId;
    if (liveKitRoomName !== roomName) {
      throw ApiError.invalidEvent('room_mismatch', "The event's roomId is not the room named in the callId");
    }
    if (content.oracleDid !== this.config.oracleDid) {
      throw ApiError.invalidEvent('wrong_oracle', 'The call is addressed to another oracle');
    }
    if (content.sessionId !== body.sessionId) {
      throw ApiError.invalidEvent('session_mismatch', "The sessionId does not match the event's");
    }
    const skewMs = this.config.clockSkewSeconds * 1000;
    const startedAt = Date.parse(content.callStartedAt);
    if (startedAt < Date.now() - skewMs) throw ApiError.invalidEvent('stale_call', 'The call event is too old to start a call');
    if (startedAt > Date.now() + skewMs) throw ApiError.invalidEvent('future_call', 'The call event is dated in the future');
    assertEncryptedCallKeyShape(content.encryptionKey);
    // Only what GET /oracle announces: the agent is then sure to have the voice and the language.
    if (content.agentVoice !== undefined && !this.config.voices.includes(content.agentVoice)) {
      throw ApiError.invalidEvent('voice_not_offered', `The oracle does not offer the voice "${content.agentVoice}" (GET /oracle lists its voices)`);
    }
    if (content.language !== undefined && !this.config.languages.includes(content.language)) {
      throw ApiError.invalidEvent('language_not_offered', `The oracle does not offer the language "${content.language}" (GET /oracle lists its languages)`);
    }
    return content;
  }

  /**
   * Dispatch, edit to active (each once), then a fresh room token. A first admission logs where its
   * time went (`timing`: when the sync began, how long the Matrix reads took): bench:call reads it.
   */
  private async finishSync(record: CallRecord, timing?: { startedAt: number; matrixReadMs: number }): Promise<SyncAnswer> {
    if (record.status === 'ended') throw ApiError.conflict('call_ended', 'The call has ended');
    let current = record;
    let dispatchMs: number | undefined;
    let mirrorMs: number | undefined;
    if (current.status === 'pending') {
      if (!current.dispatchId) {
        const dispatchFrom = performance.now();
        // The key answer goes with the dispatch (still encrypted to the oracle): the agent joins the room
        // with it at once, and asks the key route, which confirms the call, meanwhile.
        const metadata = encodeDispatchMetadata(current.callId, keyAnswer(current));
        const dispatchId = await this.livekit.dispatchAgent(current.roomName, metadata).catch((error: unknown) => {
          if (error instanceof DispatchFailedError) {
            throw ApiError.upstream('dispatch_failed', `The oracle agent could not be dispatched: ${error.message}`);
          }
          throw error;
        });
        current = (await this.store.update(current.callId, (r) => ({ ...r, dispatchId, updatedAt: new Date().toISOString() }))) ?? current;
        dispatchMs = performance.now() - dispatchFrom;
        this.log.info({ callId: current.callId, dispatchId }, 'agent dispatched');
        this.arrival.watch(current.callId, current.roomName, dispatchId);
      }
      const mirrorFrom = performance.now();
      await this.mirror(current, 'active').catch((error: Error) => {
        throw fromMatrixError(error, 'The call event could not be edited to active') ?? error;
      });
      current =
        (await this.store.update(current.callId, (r) =>
          r.status === 'pending' ? { ...r, status: 'active', mirroredStatus: 'active', updatedAt: new Date().toISOString() } : r,
        )) ?? current;
      mirrorMs = performance.now() - mirrorFrom;
    }
    const answer = {
      call: publicCall(current),
      livekit: { url: this.livekit.url, token: await this.livekit.userToken(current.roomName, current.userId) },
    };
    if (timing) {
      const ms = (value: number | undefined) => (value === undefined ? undefined : Math.round(value * 10) / 10);
      this.log.info(
        {
          callId: current.callId,
          matrixReadMs: ms(timing.matrixReadMs),
          dispatchMs: ms(dispatchMs),
          mirrorMs: ms(mirrorMs),
          totalMs: ms(performance.now() - timing.startedAt),
        },
        'call admitted',
      );
    }
    return answer;
  }

  /**
   * Edits the Matrix event to the call's stored status and records that it did; false (logged) when
   * Matrix could not be reached after the retries. Safe to repeat: a second identical edit is harmless.
   */
  private async mirrorStored(record: CallRecord): Promise<boolean> {
    try {
      await this.mirror(record, record.status);
    } catch (error) {
      this.log.error({ callId: record.callId, status: record.status, err: (error as Error).message }, 'the call status could not be mirrored to Matrix');
      return false;
    }
    await this.store.update(record.callId, (r) => (r.status === record.status ? { ...r, mirroredStatus: record.status } : r));
    return true;
  }

  /** Re-sends the Matrix edit of every call whose event does not show its status yet (run at start). */
  async reconcileMatrix(): Promise<number> {
    let fixed = 0;
    for (const record of await this.store.unmirrored()) {
      await this.store.exclusive(record.callId, async () => {
        const current = await this.store.get(record.callId);
        if (current && current.mirroredStatus !== current.status && (await this.mirrorStored(current))) fixed += 1;
      });
    }
    return fixed;
  }

  private async mirror(record: CallRecord, status: CallStatus): Promise<void> {
    const before = contentOf({ ...record, status: 'pending' });
    const edit = makeCallEdit(record.eventId, before, {
      callStatus: status,
      callId: record.callId,
      ...(record.callEndedAt ? { callEndedAt: record.callEndedAt } : {}),
    });
    await this.matrix.sendCallEvent(record.matrixRoomId, edit);
  }

  /**
   * The call whose encrypted key the agent fetches; refused for unknown, ended or expired calls. The
   * callId is checked only when no call has it: a stored call's callId was checked when it was stored.
   */
  async callForKey(callId: string): Promise<CallRecord> {
    const record = await this.store.get(callId);
    if (!record) {
      parseCallId(callId);
      throw ApiError.notFound('call_not_found', 'No such call');
    }
    if (record.status === 'ended') throw ApiError.gone('call_ended', 'The call has ended');
    if (Date.parse(record.callStartedAt) + this.config.callMaxDurationSeconds * 1000 < Date.now()) {
      throw ApiError.gone('call_expired', 'The call is older than the longest call allowed');
    }
    // The first fetch marks the oracle's arrival; not waited for (the answer needs nothing from it).
    if (record.agentArrivedAt === undefined) this.markArrived(callId);
    return record;
  }

  private markArrived(callId: string): void {
    void this.store
      .update(callId, (r) => (r.agentArrivedAt === undefined ? { ...r, agentArrivedAt: new Date().toISOString() } : r))
      .catch((error: Error) => this.log.error({ callId, err: error.message }, "the oracle's arrival could not be stored"));
  }

  /**
   * A status change by the call's user or the agent, by the transition table; mirrored to Matrix.
   * Ending an ended call again is answered with the call as it is (the user, Matrix and LiveKit race
   * to end a call; the first one wins).
   */
  async update(actor: Actor, callId: string, change: UpdateBody): Promise<UpdateAnswer> {
    parseCallId(callId);
    return this.store.exclusive(callId, async () => {
      const record = await this.store.get(callId);
      if (!record || (actor.kind === 'user' && record.userId !== actor.userId)) {
        throw ApiError.notFound('call_not_found', 'No such call');
      }
      if (record.status === 'ended' && change.status === 'ended') return this.alreadyEnded(record);
      assertTransition(record.status, change.status);
      const endReason = !change.reason ? actor.kind : actor.kind === 'agent' ? agentEndReason(change.reason) : `user: ${change.reason}`;
      const { record: next, applied } = await this.applyStatus(record, change.status, endReason);
      if (!applied) return this.alreadyEnded(next);
      const mirrored = await this.mirrorStored(next);
      return { call: publicCall(next), mirrored };
    });
  }

  /** The answer to ending an ended call: the call as it is, and Matrix made to show it (an earlier edit may have been cut short). */
  private async alreadyEnded(record: CallRecord): Promise<UpdateAnswer> {
    const mirrored = record.mirroredStatus === 'ended' || (await this.mirrorStored(record));
    return { call: publicCall(record), mirrored };
  }

  /**
   * Writes the new status under the store's lock on the call. Not applied when the call was ended
   * meanwhile by another backend on the same store (its end stands, as the first end does here).
   */
  private async applyStatus(record: CallRecord, status: CallStatus, endReason: string): Promise<{ record: CallRecord; applied: boolean }> {
    const now = new Date().toISOString();
    let applied = false;
    const next = await this.store.update(record.callId, (r) => {
      if (r.status === 'ended' && status === 'ended') return r;
      assertTransition(r.status, status);
      applied = true;
      return { ...r, status, updatedAt: now, ...(status === 'ended' ? { callEndedAt: now, endReason } : {}) };
    });
    if (applied) this.log.info({ callId: record.callId, status, endReason: status === 'ended' ? endReason : undefined }, 'call status changed');
    return { record: next ?? record, applied };
  }

  /**
   * Ends an open call for `reason` (the sweep, the catch-up with Matrix at start); false when it had
   * ended already. `mirror`: edit the Matrix event too (not when Matrix is where the end was seen).
   */
  async end(callId: string, reason: string, mirror: boolean): Promise<boolean> {
    return this.store.exclusive(callId, async () => {
      const current = await this.store.get(callId);
      if (!current || current.status === 'ended') return false;
      const { record: next, applied } = await this.applyStatus(current, 'ended', reason);
      if (!applied) return false;
      if (mirror) await this.mirrorStored(next);
      else await this.store.update(next.callId, (r) => ({ ...r, mirroredStatus: 'ended' }));
      return true;
    });
  }

  /** The call's original event as the store remembers it (for reading its edits). */
  originalEvent(record: CallRecord): MatrixEventLike {
    return {
      event_id: record.eventId,
      type: CALL_EVENT_TYPE,
      sender: record.userId,
      origin_server_ts: 0,
      content: contentOf({ ...record, status: 'pending' }),
    };
  }

  /** LiveKit said the room finished (or the user left): the call ends, and Matrix is told. */
  async endByRoom(roomName: string, reason: string): Promise<CallRecord | undefined> {
    const record = await this.store.findByRoomName(roomName);
    if (!record || record.status === 'ended') return record;
    return this.store.exclusive(record.callId, async () => {
      const current = await this.store.get(record.callId);
      if (!current || current.status === 'ended') return current;
      const { record: next, applied } = await this.applyStatus(current, 'ended', reason);
      if (applied) await this.mirrorStored(next);
      return next;
    });
  }

  /** A page of the user's calls (the store's page object: see `routes/call-json.ts`). */
  async list(query: ListQuery): Promise<ListPage> {
    try {
      return await this.store.list(query);
    } catch (error) {
      if (error instanceof InvalidCursorError) throw ApiError.badRequest('invalid_cursor', error.message);
      throw error;
    }
  }

  /**
   * A signed LiveKit webhook: the room finishing, or the call's user leaving it (`user_left`, or
   * `user_left: connection_lost` when LiveKit lost the user's connection), ends the call. Answers
   * the event's name; refuses (401) anything not signed by this LiveKit server.
   */
  async receiveLiveKitEvent(rawBody: string, authorization: string | undefined): Promise<WebhookAnswer> {
    let event;
    try {
      event = await this.livekit.receiveWebhook(rawBody, authorization);
    } catch (error) {
      if (error instanceof InvalidWebhookError) throw ApiError.unauthorized('invalid_webhook', 'The webhook is not signed by this LiveKit server');
      throw error;
    }
    // Idempotent by design (an event only ends a call, which does nothing the second time); an event
    // ID seen lately, a retry or a replay within the signature's lifetime, is answered at once.
    if (event.id && this.webhookIds.has(event.id)) return { received: event.event, duplicate: true };
    const roomName = event.room?.name;
    if (roomName && event.event === 'room_finished') {
      await this.endByRoom(roomName, 'livekit');
    } else if (roomName && event.event === 'participant_left') {
      const call = await this.store.findByRoomName(roomName);
      // A person whose network dropped for longer than the LiveKit server waits is gone as surely as
      // one who left, but the record says why: their page may never get to report it.
      if (call && event.participant?.identity === call.userId) {
        await this.endByRoom(roomName, lostConnection(event.participant) ? 'user_left: connection_lost' : 'user_left');
      } else if (call && call.status !== 'ended' && isAgent(event.participant)) {
        // The oracle leaves a call on its own only after ending it (no_show, agent_failed) or after the
        // person left; an oracle gone from an open call is one whose worker died or lost its network.
        // LiveKit does not dispatch it again, and the person would stay with nobody: the call ends, and
        // the room is closed so that the person hears of it at once.
        const ended = await this.endByRoom(roomName, 'oracle_left');
        if (ended?.endReason === 'oracle_left') {
          this.log.warn({ callId: ended.callId, agent: event.participant?.identity }, 'the oracle left an open call (its worker stopped?); the call ended');
          await this.livekit
            .closeRoom(roomName)
            .catch((error: Error) => this.log.warn({ callId: ended.callId, err: error.message }, 'closing the room failed'));
        }
      }
    }
    if (event.id) this.webhookIds.add(event.id);
    return { received: event.event };
  }

  /** An edit seen in the Matrix sync: the user's (or oracle's) `ended` edit ends the call here too. */
  async applyMatrixEdit(event: MatrixEventLike): Promise<void> {
    const content = event.content as { 'm.relates_to'?: { rel_type?: unknown; event_id?: unknown } } | undefined;
    const relation = content?.['m.relates_to'];
    if (!relation || relation.rel_type !== 'm.replace' || typeof relation.event_id !== 'string') return;
    const newContent = (content as Record<string, unknown>)['m.new_content'] as { callId?: unknown; roomId?: unknown } | undefined;
    // The content's `roomId` is the LiveKit room name (the seed's wire name), not a Matrix room ID.
    const roomName = typeof newContent?.roomId === 'string' ? newContent.roomId : undefined;
    if (!roomName) return;
    const record = await this.store.findByRoomName(roomName);
    if (!record || record.eventId !== relation.event_id || record.status === 'ended') return;
    const state = currentCallState(this.originalEvent(record), [event], { editors: [this.matrix.userId] });
    if (state.lastEditEventId !== event.event_id || state.status !== 'ended') return;
    // Matrix already shows the end: it is where it came from.
    await this.end(record.callId, event.sender === record.userId ? 'user' : 'oracle', false);
  }
}

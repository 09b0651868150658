/** A BackendClient that records its calls; each step can be held or made to fail. */
import { generateOracleKeyPair } from '../../../protocol/index.ts';
import type { OracleKeyPair } from '../../../protocol/index.ts';
import type { ApiCall, SyncAnswer } from '../../../protocol/api/index.ts';
import { BackendError } from '../../../widget/backend-client.ts';
import type { BackendClient, BackendErrorCode, BackendSession, OracleInfo } from '../../../widget/backend-client.ts';
import type { OpenIdToken } from '../../../widget/transport/matrix-transport.ts';
import { pass } from './gate.ts';
import type { Gate } from './gate.ts';

export const ORACLE_DID = 'did:ixo:ixo1oracle0test';

export class FakeBackend implements BackendClient {
  readonly keys: OracleKeyPair = generateOracleKeyPair();
  oracle: OracleInfo = { oracleDid: ORACLE_DID, publicKey: this.keys.publicKey, livekitUrl: 'ws://127.0.0.1:7880', matrixUserId: '@oracle:example.org' };
  userId = '@alice:example.org';
  readonly log: string[] = [];
  readonly signIns: OpenIdToken[] = [];
  readonly syncs: { callId: string; body: { matrixRoomId: string; sessionId: string }; session: BackendSession }[] = [];
  readonly ended: string[] = [];
  oracleError: Error | undefined;
  signInError: Error | undefined;
  /** How long the sessions it issues last. */
  sessionLifetimeMs = 3600_000;
  syncError: Error | undefined;
  /** The next syncs fail with these, one each, in order (before `syncError` is looked at). */
  readonly syncFailures: Error[] = [];
  endError: Error | undefined;
  syncGate: Gate | undefined;
  endGate: Gate | undefined;
  /** Why the backend ended a call, by callId (what GET /calls shows). */
  readonly serverEndReasons = new Map<string, string>();

  async getOracle(): Promise<OracleInfo> {
    this.log.push('getOracle');
    if (this.oracleError) throw this.oracleError;
    return this.oracle;
  }

  async signIn(token: OpenIdToken): Promise<BackendSession> {
    this.log.push('signIn');
    this.signIns.push(token);
    if (this.signInError) throw this.signInError;
    // The first session's token is 'session-token'; each sign-in after gets one of its own.
    const issued = this.signIns.length === 1 ? 'session-token' : `session-token-${this.signIns.length}`;
    return { token: issued, userId: this.userId, expiresAt: new Date(Date.now() + this.sessionLifetimeMs).toISOString() };
  }

  async syncCall(session: BackendSession, callId: string, body: { matrixRoomId: string; sessionId: string }): Promise<SyncAnswer> {
    this.log.push('syncCall');
    this.syncs.push({ callId, body, session });
    await pass(this.syncGate);
    const failure = this.syncFailures.shift();
    if (failure) throw failure;
    if (this.syncError) throw this.syncError;
    const now = new Date().toISOString();
    const roomName = callId.slice(callId.lastIndexOf('@') + 1);
    return {
      call: {
        callId,
        eventId: callId.slice(0, callId.lastIndexOf('@')),
        roomName,
        matrixRoomId: body.matrixRoomId,
        userId: this.userId,
        userDid: 'did:matrix:alice',
        oracleDid: ORACLE_DID,
        sessionId: body.sessionId,
        status: 'active',
        callType: 'audio',
        callStartedAt: now,
        createdAt: now,
        updatedAt: now,
      },
      livekit: { url: 'ws://127.0.0.1:7880', token: 'livekit-token' },
    };
  }

  async getCall(_session: BackendSession, _sessionId: string, callId: string): Promise<ApiCall | undefined> {
    this.log.push('getCall');
    const endReason = this.serverEndReasons.get(callId);
    const now = new Date().toISOString();
    return endReason
      ? {
          callId,
          eventId: callId.split('@')[0]!,
          roomName: callId.split('@')[1]!,
          matrixRoomId: '!room:example.org',
          userId: this.userId,
          userDid: 'did:matrix:x',
          oracleDid: ORACLE_DID,
          sessionId: 's',
          callType: 'audio',
          status: 'ended',
          callStartedAt: now,
          callEndedAt: now,
          endReason,
          createdAt: now,
          updatedAt: now,
        }
      : undefined;
  }

  /** The reason given with each end (undefined for a hang-up). */
  readonly endReasons: (string | undefined)[] = [];

  async endCall(_session: BackendSession, callId: string, _signal?: AbortSignal, reason?: string): Promise<void> {
    this.log.push('endCall');
    await pass(this.endGate);
    if (this.endError) throw this.endError;
    this.ended.push(callId);
    this.endReasons.push(reason);
  }
}

export function conflict(code: BackendErrorCode = 'call_ended'): BackendError {
  return new BackendError(409, code, `POST /calls/…/sync: 409 ${code}`);
}

/** The backend's answer while the oracle's Matrix device waits for the call event's room key. */
export function roomKeyUnavailable(): BackendError {
  return new BackendError(503, 'room_key_unavailable', "POST /calls/…/sync: 503 room_key_unavailable: the room key has not reached the oracle's device");
}

/**
 * The steps of a call, driving the state machine: oracle facts, sign-in, media, the call key and the
 * Matrix call event, admission by the backend, the E2EE room, the oracle's arrival; then hanging up.
 * Whatever stops a call after it began (hang-up, the oracle leaving, an error) goes through one cleanup:
 * the media is closed (room left, tracks stopped), the call event is edited to ended, the backend told.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import {
  ProtocolError,
  encryptCallKeyWithWebCrypto,
  formatCallId,
  generateCallKey,
  generateRoomName,
  makeCallEdit,
  parseCallEventContent,
  parsePublicKey,
} from '../protocol/index.ts';
import type { CallEventContent, UserEndReason } from '../protocol/index.ts';
import { BackendError } from './backend-client.ts';
import type { BackendClient, BackendSession, OracleInfo } from './backend-client.ts';
import { loadChoice } from './device-choice.ts';
import type { DeviceChoice } from './device-choice.ts';
import { CallError, CallErrorReason, toCallError } from './errors.ts';
import { EMPTY_SNAPSHOT, mediaErrorReason } from './media-session.ts';
import type { DeviceKind, LobbyTracks, MediaSession, MediaSessionFactory, MediaSnapshot } from './media-session.ts';
import { withRetry, withTimeout } from './retry.ts';
import type { RetryPolicy } from './retry.ts';
import { SessionKeeper } from './session-keeper.ts';
import { CallMachine } from './state.ts';
import type { CallType, EndReason } from './state.ts';
import { matrixUserDid } from './transport/matrix-transport.ts';
import type { MatrixTransport } from './transport/matrix-transport.ts';

export interface CallConfig {
  /** The Matrix room; empty means the transport's own room (a widget's). */
  readonly matrixRoomId: string;
  readonly sessionId: string;
  /** Pins the oracle's public key instead of trusting GET /oracle. */
  readonly oraclePublicKey?: string;
  /** With a pinned key, the oracle's DID; when both are given, GET /oracle is skipped. */
  readonly oracleDid?: string;
  readonly userDid?: string;
  /** The oracle's voice and the person's language for the call (`voice`, `language` attributes). */
  readonly agentVoice?: string;
  readonly language?: string;
  readonly oracleTimeoutMs: number;
  /** How long the call may stay reconnecting before it ends (`connection-lost`). */
  readonly reconnectTimeoutMs: number;
  readonly sendRetry: RetryPolicy;
}

/** Where the controller gets its collaborators; each may be loaded lazily and may throw a `CallError`. */
export interface CallServices {
  backend(): BackendClient | Promise<BackendClient>;
  mediaSessions(): MediaSessionFactory | Promise<MediaSessionFactory>;
  transport(): MatrixTransport | Promise<MatrixTransport>;
}

/** How long each cleanup step may take before the call is declared over anyway. */
const CLEANUP_TIMEOUT_MS = 10_000;
const CLEANUP_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 300, maxDelayMs: 2000 };

/** What a call has got so far: what the cleanup must undo. */
interface CallProgress {
  transport?: MatrixTransport;
  matrixRoomId?: string;
  backend?: BackendClient;
  session?: BackendSession;
  media?: MediaSession;
  unsubscribe?: () => void;
  content?: CallEventContent;
  eventId?: string;
  callId?: string;
}

type Outcome = { readonly kind: 'hang-up' | 'oracle-left' } | { readonly kind: 'error'; readonly error: CallError };

/**
 * The voice and language asked for must be among those the oracle announces (GET /oracle); with a
 * pinned oracle, whose facts are not asked for, the backend alone checks them.
 */
function checkChoices(config: CallConfig, oracle: OracleInfo): void {
  const offered = (what: string, value: string | undefined, choices: readonly string[] | undefined) => {
    if (value === undefined || choices === undefined || choices.includes(value)) return;
    const list = choices.length > 0 ? `it offers ${choices.join(', ')}` : 'it offers no choice';
    throw new CallError(CallErrorReason.NotConfigured, `${what} "${value}" is not offered by the oracle (${list})`);
  };
  offered('voice', config.agentVoice, oracle.voices);
  offered('language', config.language, oracle.languages);
}

/** Why the oracle left, when it said so (`oracle.ended`) before leaving. */
function oracleLeftReason(snapshot: MediaSnapshot): EndReason {
  if (snapshot.oracleEndReason === 'cannot-hear') return 'oracle-cannot-hear';
  if (snapshot.oracleEndReason === 'cannot-answer') return 'oracle-cannot-answer';
  return 'oracle-left';
}

function stopTracks(tracks: LobbyTracks): void {
  tracks.microphone?.stop();
  tracks.camera?.stop();
}

function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The steps of the set-up that leave a User Timing mark. */
const MARKED_STEPS = ['start', 'openid', 'signed-in', 'media-ready', 'event-sent', 'synced', 'connected', 'oracle-joined'] as const;

/**
 * A User Timing mark at a step of the set-up (`oracle-call:signed-in`, …): what a profiler, or
 * bench:call, reads to see where the time goes. The last call's only: a start clears ours (not the page's).
 */
function mark(step: (typeof MARKED_STEPS)[number]): void {
  if (step === 'start') for (const name of MARKED_STEPS) performance.clearMarks(`oracle-call:${name}`);
  performance.mark(`oracle-call:${step}`);
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}

/** Runs `step`; anything it throws that is not already a `CallError` (or an abort) becomes `reason`. */
async function step<T>(reason: CallErrorReason, signal: AbortSignal, run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw toCallError(error, reason);
  }
}

/** How often a sync is repeated while the oracle's device waits for the call event's Matrix room key. */
const ROOM_KEY_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 1500, maxDelayMs: 3000 };

/** An error that ends the retries at once (`retryable: false`), carrying the real one. */
class FinalError extends Error {
  readonly retryable = false;

  constructor(override readonly cause: unknown) {
    super('final', { cause });
  }
}

/** The backend refused the session itself (expired, or signed with a key it no longer has). */
function isSessionRefused(error: unknown): boolean {
  return error instanceof BackendError && error.status === 401 && (error.code === 'invalid_session' || error.code === 'session_expired');
}

/** How long GET /oracle asked ahead (when the lobby opens or a call button is pointed at) serves a call. */
const ORACLE_AHEAD_MS = 60_000;

function backendReason(error: unknown, otherwise: CallErrorReason): CallErrorReason {
  return error instanceof BackendError && error.isUnavailable ? CallErrorReason.BackendUnavailable : otherwise;
}

export class CallController implements ReactiveController {
  readonly machine: CallMachine;
  /** The current call's media state (what the controls and the indicators show). */
  snapshot: MediaSnapshot = EMPTY_SNAPSHOT;
  #media: MediaSession | undefined;
  #abort: AbortController | undefined;
  #running: Promise<void> | undefined;
  #devices: Partial<Record<DeviceKind, string>> = {};
  #startOn = { microphone: true, camera: true };
  #warm: Promise<unknown> | undefined;
  readonly #sessions = new SessionKeeper((transport, backend, signal) => this.#signIn(transport, backend, signal));
  /** GET /oracle asked ahead (warmUp), for a call started soon after. */
  #oracleAhead: { readonly backend: BackendClient; readonly at: number; readonly info: Promise<OracleInfo> } | undefined;

  constructor(
    private readonly host: ReactiveControllerHost & { readonly isConnected: boolean },
    private readonly config: () => CallConfig,
    private readonly services: CallServices,
    private readonly log: (message: string, detail?: unknown) => void = (message, detail) => console.warn(`oracle-call: ${message}`, detail ?? ''),
  ) {
    this.machine = new CallMachine(host);
    host.addController(this);
  }

  get hasMedia(): boolean {
    return this.#media !== undefined;
  }

  /**
   * Loads in the background what a call needs first — LiveKit's media module (the call-time chunk) and
   * the Matrix transport — so that starting the call does not wait for them: when the lobby opens, or a
   * call button is pointed at. Once per element; a failure is left for the call to report.
   */
  warmUp(): void {
    this.#warm ??= Promise.all([this.services.mediaSessions(), this.services.transport()]).catch(() => {
      this.#warm = undefined;
    });
    void this.#askOracleAhead();
  }

  /**
   * Signs in while the person is in the lobby, so that joining does not wait for it; the session is
   * kept for the calls after while it is fresh. Not on a mere pointer: in a widget the OpenID token
   * may ask the person for consent. A failure is left for the call to meet again and report.
   */
  signInAhead(): void {
    void (async () => {
      const [transport, backend] = await Promise.all([this.services.transport(), this.services.backend()]);
      this.#sessions.ahead(transport, backend);
    })().catch(() => undefined);
  }

  async #askOracleAhead(): Promise<void> {
    const config = this.config();
    if (config.oraclePublicKey && config.oracleDid) return;
    const ahead = this.#oracleAhead;
    if (ahead && Date.now() - ahead.at < ORACLE_AHEAD_MS) return;
    try {
      const backend = await this.services.backend();
      const info = backend.getOracle();
      info.catch(() => {
        if (this.#oracleAhead?.info === info) this.#oracleAhead = undefined;
      });
      this.#oracleAhead = { backend, at: Date.now(), info };
    } catch {
      // No backend yet: the call reports it.
    }
  }

  /** Shows the lobby (devices are chosen there; `start` leaves it for the call). */
  openLobby(callType: CallType): void {
    if (this.machine.can('open-lobby')) this.machine.send({ type: 'open-lobby', callType });
  }

  /**
   * Starts a call with `choice`'s devices (the remembered one when not given), its microphone and camera
   * on or off as chosen; resolves when it is under way with the oracle, or has ended or failed.
   */
  start(callType: CallType, choice: DeviceChoice = loadChoice(), lobby: LobbyTracks = {}): Promise<void> {
    if (!this.machine.can('start')) {
      stopTracks(lobby);
      return Promise.reject(new Error(`A call cannot start while ${this.machine.phase}`));
    }
    this.#devices = { ...choice.devices };
    this.#startOn = { microphone: choice.microphoneEnabled, camera: choice.cameraEnabled };
    this.snapshot = EMPTY_SNAPSHOT;
    this.machine.send({ type: 'start', callType });
    const abort = new AbortController();
    this.#abort = abort;
    let started!: () => void;
    const underWay = new Promise<void>((resolve) => (started = resolve));
    const running = this.#run(callType, abort.signal, started, lobby).finally(() => {
      // The lobby's tracks are the call's: stopped with it, also when the call ended before taking them.
      stopTracks(lobby);
      started();
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return underWay;
  }

  /** Hangs up (or cancels a call being set up); resolves once the call has ended and is cleaned up. */
  async hangUp(): Promise<void> {
    if (this.machine.can('hang-up')) {
      this.machine.send({ type: 'hang-up' });
      this.#abort?.abort(new DOMException('The call was hung up', 'AbortError'));
    }
    await this.#running;
  }

  /** From the lobby, ended or error back to idle. */
  close(): void {
    if (this.machine.can('close')) this.machine.send({ type: 'close' });
  }

  async setMicrophoneEnabled(enabled: boolean): Promise<void> {
    await this.#media?.setMicrophoneEnabled(enabled);
  }

  /** Sends a chat message to the oracle; throws when there is no call to send it in. */
  async sendChat(text: string): Promise<void> {
    if (!this.#media || this.machine.phase !== 'in-call') throw new CallError(CallErrorReason.ConnectionLost, 'not in a call');
    await this.#media.sendChat(text);
  }

  async setCameraEnabled(enabled: boolean): Promise<void> {
    await this.#media?.setCameraEnabled(enabled);
  }

  async selectDevice(kind: DeviceKind, deviceId: string): Promise<void> {
    this.#devices = { ...this.#devices, [kind]: deviceId };
    await this.#media?.selectDevice(kind, deviceId);
  }

  async startAudio(): Promise<void> {
    await this.#media?.startAudio();
  }

  hostConnected(): void {}

  /** An element taken out of the page leaves no call behind (one merely moved elsewhere keeps its call). */
  hostDisconnected(): void {
    setTimeout(() => {
      if (!this.host.isConnected) void this.hangUp();
    }, 0);
  }

  async #run(callType: CallType, signal: AbortSignal, started: () => void, lobby: LobbyTracks): Promise<void> {
    const call: CallProgress = {};
    let outcome: Outcome;
    try {
      await this.#establish(callType, call, signal, lobby);
      started();
      outcome = { kind: await this.#untilOver(call.media!, signal) };
    } catch (error) {
      outcome = signal.aborted && this.machine.phase === 'ending' ? { kind: 'hang-up' } : { kind: 'error', error: toCallError(error) };
    }
    if (outcome.kind === 'oracle-left' && this.machine.can('hang-up')) this.machine.send({ type: 'hang-up' });
    try {
      // A connection that never came back is recorded as such by the backend (not as a hang-up).
      await this.#cleanup(call, outcome.kind === 'error' && outcome.error.reason === CallErrorReason.ConnectionLost ? 'connection_lost' : undefined);
    } catch (error) {
      this.log('cleaning up the call failed', error);
    }
    this.#media = undefined;
    this.host.requestUpdate();
    if (this.machine.phase === 'ending') {
      // A hang-up wins over an error that raced it: the person asked for the call to end, and it has.
      this.machine.send({ type: 'ended', reason: outcome.kind === 'oracle-left' ? oracleLeftReason(this.snapshot) : 'hang-up', at: Date.now() });
    } else if (outcome.kind === 'error') {
      if (outcome.error.reason === CallErrorReason.Unknown) this.log('the call failed', outcome.error);
      this.machine.send({ type: 'fail', error: outcome.error.info });
    }
  }

  async #establish(callType: CallType, call: CallProgress, signal: AbortSignal, lobby: LobbyTracks): Promise<void> {
    const config = this.config();
    mark('start');
    const factory = await step(CallErrorReason.NotConfigured, signal, () => this.services.mediaSessions());
    if (!(await factory.isE2EESupported())) throw new CallError(CallErrorReason.E2EEUnsupported);
    const transport = await step(CallErrorReason.MatrixUnavailable, signal, () => this.services.transport());
    call.transport = transport;
    // A widget knows its room from its URL; an attribute, when set, names it explicitly.
    const matrixRoomId = config.matrixRoomId || transport.roomId || '';
    if (!matrixRoomId) throw new CallError(CallErrorReason.NotConfigured, 'matrix-room-id is not set');
    call.matrixRoomId = matrixRoomId;
    // The room's encryption session is shared while the sign-in and the media go on.
    transport.prepareToSend?.(matrixRoomId);
    const backend = await step(CallErrorReason.NotConfigured, signal, () => this.services.backend());
    call.backend = backend;
    const oracle = await this.#oracle(backend, config, signal);
    checkChoices(config, oracle);
    // The sign-in runs while the media is readied: neither needs the other, and the call event (which
    // names the signed-in user) waits for both.
    // A session kept from an earlier call, or begun when the lobby opened, is used while fresh.
    const signingIn = (async () => {
      const signedIn = await step(CallErrorReason.SignInFailed, signal, () => this.#sessions.session(transport, backend, signal));
      mark('signed-in');
      return signedIn;
    })();
    // Awaited once the media is ready; a failure meanwhile must not surface as an unhandled rejection.
    signingIn.catch(() => {});

    const media = await step(CallErrorReason.Unknown, signal, () => factory.create());
    call.media = media;
    this.#media = media;
    call.unsubscribe = media.subscribe((event) => {
      if (event.type === 'change') {
        this.snapshot = event.snapshot;
        this.host.requestUpdate();
      }
    });
    this.snapshot = media.snapshot;
    try {
      await media.prepare({ callType, devices: this.#devices, ...lobby });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw error instanceof CallError ? error : toCallError(error, mediaErrorReason(error));
    }
    // Off as chosen in the lobby: the tracks exist (so they can be turned on in the call), muted.
    if (!this.#startOn.microphone) await media.setMicrophoneEnabled(false);
    if (callType === 'video' && !this.#startOn.camera) await media.setCameraEnabled(false);
    throwIfAborted(signal);
    mark('media-ready');
    let session = await signingIn;
    call.session = session;
    this.machine.send({ type: 'media-ready' });

    const callKey = generateCallKey();
    const roomName = generateRoomName();
    const content = await step(CallErrorReason.NotConfigured, signal, async () =>
      parseCallEventContent({
        callType,
        callStartedAt: new Date().toISOString(),
        encryptionKey: await encryptCallKeyWithWebCrypto(callKey, oracle.publicKey),
        sessionId: config.sessionId,
        // The event's `roomId` is the LiveKit room name (the seed's wire name), not the Matrix room.
        roomId: roomName,
        // The page may name the person's DID (`user-did`); otherwise it is derived from the Matrix user
        // the backend verified at sign-in: `did:matrix:` and the user ID, percent-encoded (matrixUserDid).
        userDid: config.userDid || matrixUserDid(session.userId || transport.userId || ''),
        oracleDid: oracle.oracleDid,
        ...(config.agentVoice ? { agentVoice: config.agentVoice } : {}),
        ...(config.language ? { language: config.language } : {}),
        callStatus: 'pending',
      }),
    );
    call.content = content;
    const txnId = `oracle-call-${randomId()}`;
    call.eventId = await step(CallErrorReason.MatrixUnavailable, signal, () =>
      withRetry(() => transport.sendCallEvent(matrixRoomId, content, { txnId }), config.sendRetry, {
        signal,
        onRetry: (attempt, error, delay) => this.log(`sending the call event failed (attempt ${attempt}); retrying in ${Math.round(delay)} ms`, error),
      }),
    );
    call.callId = formatCallId({ eventId: call.eventId, roomName });
    throwIfAborted(signal);
    mark('event-sent');
    this.machine.send({ type: 'announced', callId: call.callId });

    const sync = () => backend.syncCall(session, call.callId!, { matrixRoomId, sessionId: config.sessionId }, signal);
    let renewed = false;
    const syncOnce = async () => {
      try {
        return await sync();
      } catch (error) {
        if (renewed || !isSessionRefused(error)) throw error;
        // A session kept from before was refused (the backend restarted with another key, say): the
        // person signs in again, once, and the same call is synced with the new session.
        renewed = true;
        session = await this.#sessions.renew(session, transport, backend, signal);
        call.session = session;
        return await sync();
      }
    };
    const admitted = await step(CallErrorReason.CallRefused, signal, async () => {
      try {
        // In an encrypted room the oracle's device may not have the event's room key yet (the backend
        // waits a while, then answers 503 room_key_unavailable): sync again, a bounded number of times.
        return await withRetry(
          async () => {
            try {
              return await syncOnce();
            } catch (error) {
              throw error instanceof BackendError && error.code === 'room_key_unavailable' ? error : new FinalError(error);
            }
          },
          ROOM_KEY_RETRY,
          { signal, onRetry: (attempt, error) => this.log(`the oracle has not received the room key yet (attempt ${attempt}); syncing again`, error) },
        );
      } catch (error) {
        const cause = error instanceof FinalError ? error.cause : error;
        throw toCallError(cause, backendReason(cause, CallErrorReason.CallRefused));
      }
    });
    throwIfAborted(signal);
    mark('synced');
    this.machine.send({ type: 'admitted' });

    await step(CallErrorReason.ConnectionFailed, signal, () => media.connect({ url: admitted.livekit.url, token: admitted.livekit.token, callKey }, signal));
    throwIfAborted(signal);
    mark('connected');
    this.machine.send({ type: 'connected' });

    await step(CallErrorReason.Unknown, signal, async () => {
      try {
        await withTimeout(
          media.waitForOracle(signal),
          config.oracleTimeoutMs,
          () => new CallError(CallErrorReason.OracleTimeout, `no oracle after ${config.oracleTimeoutMs} ms`),
          signal,
        );
      } catch (error) {
        throw await this.#whyNoOracle(error, backend, session, config.sessionId, call.callId!, signal);
      }
    });
    throwIfAborted(signal);
    if (media.snapshot.encryption !== 'encrypted') {
      throw new CallError(CallErrorReason.NotEncrypted, `LiveKit reports the media as ${media.snapshot.encryption}`);
    }
    mark('oracle-joined');
    this.machine.send({ type: 'oracle-joined', at: Date.now() });
  }

  /** An OpenID token from the transport, exchanged with the backend for a session. */
  async #signIn(transport: MatrixTransport, backend: BackendClient, signal?: AbortSignal): Promise<BackendSession> {
    let openId: Awaited<ReturnType<MatrixTransport['getOpenIdToken']>>;
    try {
      openId = await transport.getOpenIdToken();
    } catch (error) {
      throw toCallError(error, CallErrorReason.MatrixUnavailable);
    }
    mark('openid');
    try {
      return await backend.signIn(openId, signal);
    } catch (error) {
      throw toCallError(error, backendReason(error, CallErrorReason.SignInFailed));
    }
  }

  /** GET /oracle: the answer asked ahead when it is recent and from this backend, else asked now. */
  #askOracle(backend: BackendClient, signal: AbortSignal): Promise<OracleInfo> {
    const ahead = this.#oracleAhead;
    this.#oracleAhead = undefined;
    if (ahead && ahead.backend === backend && Date.now() - ahead.at < ORACLE_AHEAD_MS) return ahead.info;
    return backend.getOracle(signal);
  }

  async #oracle(backend: BackendClient, config: CallConfig, signal: AbortSignal): Promise<OracleInfo> {
    const pinned = config.oraclePublicKey;
    if (pinned) {
      try {
        parsePublicKey(pinned);
      } catch (error) {
        throw new CallError(CallErrorReason.OracleKeyMismatch, `oracle-public-key: ${(error as Error).message}`, { cause: error });
      }
      if (config.oracleDid) return { oracleDid: config.oracleDid, publicKey: pinned };
    }
    const info = await step(CallErrorReason.OracleUnavailable, signal, () => this.#askOracle(backend, signal));
    if (pinned) {
      if (info.publicKey !== pinned) throw new CallError(CallErrorReason.OracleKeyMismatch, 'GET /oracle announces another public key than the pinned one');
      return { ...info, publicKey: pinned, ...(config.oracleDid ? { oracleDid: config.oracleDid } : {}) };
    }
    try {
      parsePublicKey(info.publicKey);
    } catch (error) {
      throw new CallError(CallErrorReason.OracleUnavailable, `GET /oracle: ${(error as ProtocolError).message}`, { cause: error });
    }
    return config.oracleDid ? { ...info, oracleDid: config.oracleDid } : info;
  }

  /**
   * When no oracle can take a call, the backend ends it (`oracle_busy`) and closes its room within
   * seconds: the room drops while the element waits. The backend says why; otherwise the error stays.
   * Asked on a timeout too: a person who joined only after the room was closed joined a new, empty
   * one, and waited for the oracle there.
   */
  async #whyNoOracle(
    error: unknown,
    backend: BackendClient,
    session: BackendSession,
    sessionId: string,
    callId: string,
    signal: AbortSignal,
  ): Promise<unknown> {
    const asks = error instanceof CallError && (error.reason === CallErrorReason.ConnectionLost || error.reason === CallErrorReason.OracleTimeout);
    if (!asks || !backend.getCall || signal.aborted) return error;
    const found = await backend.getCall(session, sessionId, callId, signal).catch(() => undefined);
    return found?.endReason === 'oracle_busy' ? new CallError(CallErrorReason.OracleBusy, 'no oracle could take the call', { cause: error }) : error;
  }

  /**
   * Resolves on hang-up or the oracle leaving; rejects when the connection drops for good: LiveKit gave
   * up, or it has been reconnecting for longer than `reconnectTimeoutMs`.
   */
  #untilOver(media: MediaSession, signal: AbortSignal): Promise<'hang-up' | 'oracle-left'> {
    const bound = this.config().reconnectTimeoutMs;
    let reconnecting: ReturnType<typeof setTimeout> | undefined;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return resolve('hang-up');
      const unsubscribe = media.subscribe((event) => {
        if (event.type === 'reconnecting' && this.machine.can('reconnecting')) {
          this.machine.send({ type: 'reconnecting' });
          reconnecting = setTimeout(() => {
            finish(() => reject(new CallError(CallErrorReason.ConnectionLost, `the connection did not come back within ${Math.round(bound / 1000)} s`)));
          }, bound);
        }
        if (event.type === 'reconnected' && this.machine.can('reconnected')) {
          clearTimeout(reconnecting);
          this.machine.send({ type: 'reconnected' });
        }
        if (event.type === 'change' && event.snapshot.encryption === 'not-encrypted') {
          finish(() => reject(new CallError(CallErrorReason.NotEncrypted, 'LiveKit reports unencrypted media during the call')));
        }
        if (event.type === 'oracle-left') finish(() => resolve('oracle-left'));
        if (event.type === 'disconnected') finish(() => reject(new CallError(CallErrorReason.ConnectionLost, event.reason)));
      });
      const onAbort = () => finish(() => resolve('hang-up'));
      let settled = false;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(reconnecting);
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        settle();
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Leaves no half-open call: room left and tracks stopped, event edited to ended, backend told. */
  async #cleanup(call: CallProgress, reason?: UserEndReason): Promise<void> {
    const steps: [string, Promise<unknown>][] = [];
    if (call.media) steps.push(['closing the media', call.media.close()]);
    const { transport, content, eventId, callId, matrixRoomId } = call;
    if (transport && content && eventId && matrixRoomId) {
      const edit = makeCallEdit(eventId, content, { callStatus: 'ended', callEndedAt: new Date().toISOString(), ...(callId ? { callId } : {}) });
      const txnId = `oracle-call-${randomId()}`;
      steps.push(['editing the call event to ended', withRetry(() => transport.sendCallEvent(matrixRoomId, edit, { txnId }), CLEANUP_RETRY)]);
    }
    if (call.backend && call.session && callId)
      steps.push(['telling the backend the call ended', call.backend.endCall(call.session, callId, undefined, reason)]);
    const results = await Promise.allSettled(steps.map(([what, promise]) => withTimeout(promise, CLEANUP_TIMEOUT_MS, () => new Error(`${what} timed out`))));
    results.forEach((result, i) => {
      if (result.status === 'rejected') this.log(`${steps[i]![0]} failed`, result.reason);
    });
    call.unsubscribe?.();
  }
}

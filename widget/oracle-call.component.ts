/**
 * `<oracle-call>`: an end-to-end encrypted voice or video call with an AI oracle.
 *
 * Matrix is reached through one `MatrixTransport`: the page's matrix-js-sdk client (`.matrixClient`),
 * any transport (`.transport`), or, when neither is set and the page runs as a widget (Element's
 * `widgetId` and `parentUrl` in its URL), the widget API. The backend and the media (LiveKit) are
 * `.backendClient` and `.mediaSessions`, made from `backend-url` and livekit-client when not set.
 *
 * @attr backend-url - The backend's base URL.
 * @attr call-type - `audio` (default) or `video`: the call the main button starts.
 * @attr session-id - The session the call belongs to; a UUID is made when absent.
 * @attr matrix-room-id - The Matrix room shared by the person and the oracle.
 * @attr oracle-public-key - Pins the oracle's public key (base58btc) instead of trusting GET /oracle.
 * @attr oracle-did - The oracle's DID; with `oracle-public-key`, GET /oracle is not asked at all.
 * @attr user-did - The person's DID; when absent, `did:matrix:` and their (percent-encoded) Matrix user ID.
 * @attr oracle-timeout - Seconds to wait for the oracle to join (default 30).
 * @attr reconnect-timeout - Seconds a dropped call may spend reconnecting before it ends (default 20: the LiveKit server gives a silent participant up after about 20 s, so a longer wait could not save the call).
 * @attr theme - `light` or `dark` forces a scheme; otherwise it follows `prefers-color-scheme`.
 * @attr no-lobby - Start calls at once, without the lobby where the person checks and chooses their devices.
 * @attr lang - The element's language (`en`, `de`, `es`, `fr`); else the page's `<html lang>`, else the browser's.
 * @attr voice - The oracle's voice for the call, one of those it announces (`GET /oracle` `voices`).
 * @attr language - The language the person speaks (BCP 47, e.g. `en`), one of those the oracle announces.
 * @attr captions - `off` starts a call with the captions hidden (the person can show them); `on` (default).
 * @attr data-oracle-state - Set by the element during a call: `listening`, `thinking` or `speaking`, for styling.
 *
 * @event oracle-call-state - The call moved to another state. Detail: `OracleCallStateDetail`.
 * @event oracle-call-ended - The call ended (hung up, or the oracle left). Detail: `OracleCallEndedDetail`.
 * @event oracle-call-error - The call failed; it was cleaned up first. Detail: `OracleCallErrorDetail`.
 * @event oracle-call-oracle-state-change - The oracle started listening, thinking or speaking. Detail: `OracleCallOracleStateDetail`.
 * @event oracle-call-transcript - A transcript entry was added or changed. Detail: `OracleCallTranscriptDetail`.
 *
 * @csspart base - The element's box.
 * @csspart stage - The media area: the oracle's video or avatar, and the local preview.
 * @csspart oracle-video - The oracle's video.
 * @csspart local-video - The preview of the person's camera.
 * @csspart avatar - The oracle's avatar when it shows no video; it glows while the oracle speaks.
 * @csspart status - The status line (text, timer, encryption, speaking); the error box replaces it after an error.
 * @csspart status-text - The words saying what is happening.
 * @csspart timer - The call's duration.
 * @csspart encryption - The end-to-end encryption indicator (from what LiveKit reports).
 * @csspart speaking - The "oracle speaking" indicator.
 * @csspart error - The error box (title and message).
 * @csspart error-title - The error's title.
 * @csspart error-message - The error's message.
 * @csspart controls - The row of buttons.
 * @csspart call-button - The main call button.
 * @csspart alt-call-button - The button for the other call type.
 * @csspart sound-button - Starts the oracle's sound when the browser blocked it (autoplay rules).
 * @csspart mute-button - Mutes the microphone.
 * @csspart camera-button - Turns the camera off and on (video calls).
 * @csspart devices-button - Shows the device choice.
 * @csspart hangup-button - Hangs up (or cancels while the call is set up).
 * @csspart retry-button - Tries again after an error.
 * @csspart close-button - Returns to the start after an error or the end of a call.
 * @csspart devices - The device choice (microphone, camera, speaker).
 * @csspart lobby - The lobby before a call: preview, level, device choice.
 * @csspart preview - The lobby's camera area; `preview-video` is the camera itself.
 * @csspart level - The lobby's microphone level (a `meter`).
 * @csspart lobby-devices - The lobby's device choice.
 * @csspart lobby-problem - Why the microphone cannot be used, and what to do.
 * @csspart lobby-notice - A device in use was disconnected, and which one is used instead.
 * @csspart join-button - Leaves the lobby for the call.
 * @csspart oracle-state - The oracle's state (listening, thinking, speaking) with its voice level.
 * @csspart voice-level - The oracle's voice level (bars following `--level`, 0 to 1).
 * @csspart captions - The captions: the transcript, its hide button and the chat box.
 * @csspart captions-button - Hides and shows the transcript.
 * @csspart transcript - The transcript (scrollable list of what the person and the oracle said).
 * @csspart chat - The chat box (a form).
 * @csspart chat-input - The text field of the chat box.
 * @csspart chat-send - The chat box's send button.
 *
 * @cssproperty --oracle-call-background - Background of the element.
 * @cssproperty --oracle-call-surface - Background of buttons and the media area.
 * @cssproperty --oracle-call-foreground - Text colour.
 * @cssproperty --oracle-call-muted - Secondary text colour.
 * @cssproperty --oracle-call-accent - The main button and the avatar.
 * @cssproperty --oracle-call-accent-foreground - Text on the accent colour.
 * @cssproperty --oracle-call-danger - Hang-up button and errors.
 * @cssproperty --oracle-call-danger-foreground - Text on the danger colour.
 * @cssproperty --oracle-call-success - Encrypted indicator and the speaking glow.
 * @cssproperty --oracle-call-warning - Outline of pressed toggles (muted, camera off).
 * @cssproperty --oracle-call-border - Borders.
 * @cssproperty --oracle-call-border-width - Border width (1px; 2px under `prefers-contrast: more`).
 * @cssproperty --oracle-call-focus-ring - Keyboard focus outline.
 * @cssproperty --oracle-call-radius - Corner radius.
 * @cssproperty --oracle-call-gap - Spacing.
 * @cssproperty --oracle-call-font-family - Font.
 * @cssproperty --oracle-call-video-aspect-ratio - Aspect ratio of the media area in video calls.
 */
import { msg, updateWhenLocaleChanges } from '@lit/localize';
import { LitElement, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import type { BackendClient } from './backend-client.ts';
import { CallController } from './call-controller.ts';
import type { CallConfig } from './call-controller.ts';
import { announcement, deviceChangeFailed, deviceChosen, statusText, words } from './copy.ts';
import { loadChoice, saveChoice } from './device-choice.ts';
import { ERROR_COPY } from './errors.ts';
import { emit } from './events.ts';
import { currentLocale, resolveLocale, useLocale } from './i18n/localize.ts';
import { LobbyController } from './lobby.ts';
import type { MediaDevicesLike } from './lobby.ts';
import type { DeviceKind, MediaSessionFactory } from './media-session.ts';
import { renderCallFacts, renderControls } from './oracle-call.controls.ts';
import { renderLobby } from './oracle-call.lobby.ts';
import { styles } from './oracle-call.styles.ts';
import { conversationStyles } from './oracle-call.conversation.styles.ts';
import { renderConversation, renderOracleState } from './oracle-call.conversation.ts';
import type { OracleState, TranscriptEntry } from './conversation.ts';
import { ConversationController } from './conversation-controller.ts';
import { renderDevices, renderStage } from './oracle-call.views.ts';
import { DEFAULT_SEND_RETRY } from './retry.ts';
import { ElementServices } from './services.ts';
import { ShortcutController } from './shortcuts.ts';
import type { ShortcutActions } from './shortcuts.ts';
import type { RetryPolicy } from './retry.ts';
import { ACTIVE_PHASES } from './state.ts';
import type { CallState, CallType } from './state.ts';
import type { MatrixClientLike } from './transport/matrix-client-transport.ts';
import type { MatrixTransport } from './transport/matrix-transport.ts';

/** How long the element waits for the oracle to join, unless `oracle-timeout` says otherwise. */
const DEFAULT_ORACLE_TIMEOUT_SECONDS = 30;
/** How long a dropped call may reconnect, unless `reconnect-timeout` says otherwise: the LiveKit server gives a silent participant up after about 20 s. */
const DEFAULT_RECONNECT_SECONDS = 20;

/** An attribute's seconds when they are a positive number, else the default. */
const positiveSeconds = (value: number, fallback: number) => (Number.isFinite(value) && value > 0 ? value : fallback);

export class OracleCall extends LitElement {
  static override styles = [styles, conversationStyles];

  /**
   * Reactive properties, declared without decorators so that any bundler or transpiler builds the
   * element as it is (the fields are `declare`d and given their defaults in the constructor).
   */
  static override properties = {
    backendUrl: { attribute: 'backend-url' },
    callType: { attribute: 'call-type' },
    sessionId: { attribute: 'session-id' },
    matrixRoomId: { attribute: 'matrix-room-id' },
    oraclePublicKey: { attribute: 'oracle-public-key' },
    oracleDid: { attribute: 'oracle-did' },
    userDid: { attribute: 'user-did' },
    oracleTimeout: { attribute: 'oracle-timeout', type: Number },
    captions: {},
    voice: {},
    language: {},
    noLobby: { attribute: 'no-lobby', type: Boolean },
    reconnectTimeout: { attribute: 'reconnect-timeout', type: Number },
    mediaDevices: { attribute: false },
    matrixClient: { attribute: false },
    transport: { attribute: false },
    backendClient: { attribute: false },
    mediaSessions: { attribute: false },
    e2eeWorker: { attribute: false },
    sendRetry: { attribute: false },
    announcementText: { state: true },
    devicesOpen: { state: true },
    now: { state: true },
    captionsHidden: { state: true },
  };

  declare backendUrl: string;
  declare callType: CallType;
  declare sessionId: string;
  declare matrixRoomId: string;
  declare oraclePublicKey: string;
  declare oracleDid: string;
  declare userDid: string;
  declare oracleTimeout: number;
  /** `off` starts calls with the captions hidden. */
  declare captions: 'on' | 'off';
  declare voice: string;
  declare language: string;
  declare noLobby: boolean;
  declare reconnectTimeout: number;
  /** The browser's media devices for the lobby (`navigator.mediaDevices` when not set). */
  declare mediaDevices: MediaDevicesLike | undefined;
  /**
   * A matrix-js-sdk client the page is signed in with (the element only needs its shape). For an
   * encrypted room it must have encryption on (`initRustCrypto()`) and have synced the room.
   */
  declare matrixClient: MatrixClientLike | undefined;
  /** Any Matrix transport; wins over `matrixClient` and widget mode. */
  declare transport: MatrixTransport | undefined;
  /** The backend; made from `backend-url` when not set. */
  declare backendClient: BackendClient | undefined;
  /** Makes the media sessions; LiveKit's (loaded when a call starts) when not set. */
  declare mediaSessions: MediaSessionFactory | undefined;
  /** Makes LiveKit's E2EE worker, for bundles that load it their own way (Vite's `?worker`). */
  declare e2eeWorker: (() => Worker) | undefined;
  /** Backoff for sending the call event. */
  declare sendRetry: RetryPolicy;
  declare private announcementText: string;
  declare private devicesOpen: boolean;
  declare private now: number;
  /** The person's choice in this call; undefined follows the `captions` attribute. */
  declare private captionsHidden: boolean | undefined;

  readonly #call = new CallController(this, () => this.#config(), new ElementServices(this));
  readonly #lobby = new LobbyController(this, () => this.mediaDevices ?? globalThis.navigator?.mediaDevices);
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: a ReactiveController registers itself with the element it is given.
  readonly #shortcuts = new ShortcutController(this, () => this.#shortcutActions());
  /** Push-to-talk unmuted the microphone: letting the key go mutes it again. */
  #talkingWhileMuted = false;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #hadFocus = false;
  #audioBlocked = false;
  readonly #conversation = new ConversationController(
    this,
    () => ({ snapshot: this.#call.snapshot, inCall: this.state.phase === 'in-call' }),
    (text) => this.#say(text),
  );

  constructor() {
    super();
    this.backendUrl = '';
    this.callType = 'audio';
    this.sessionId = '';
    this.matrixRoomId = '';
    this.oraclePublicKey = '';
    this.oracleDid = '';
    this.userDid = '';
    this.oracleTimeout = DEFAULT_ORACLE_TIMEOUT_SECONDS;
    this.noLobby = false;
    this.reconnectTimeout = DEFAULT_RECONNECT_SECONDS;
    this.sendRetry = DEFAULT_SEND_RETRY;
    this.announcementText = '';
    this.devicesOpen = false;
    this.now = Date.now();
    this.captions = 'on';
    this.voice = '';
    this.language = '';
    this.captionsHidden = undefined;
    this.#call.machine.subscribe((next, previous) => this.#onStateChange(next, previous));
    updateWhenLocaleChanges(this);
  }

  /** `lang` is HTML's own attribute: watched here so that changing it switches the element's language. */
  static override get observedAttributes(): string[] {
    // biome-ignore lint/complexity/noThisInStatic: Lit finalizes each element class through its own static getter; `super` keeps that.
    return [...super.observedAttributes, 'lang'];
  }

  override attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    super.attributeChangedCallback(name, old, value);
    if (name === 'lang' && this.isConnected) void this.#applyLocale();
  }

  /** Resolves once the element shows its words in its locale (`lang`, else the page's, else the browser's). */
  async localeReady(): Promise<void> {
    await this.#applyLocale();
    await this.updateComplete;
  }

  #applyLocale(): Promise<void> {
    return useLocale(resolveLocale(this.getAttribute('lang'))).catch((error: unknown) => {
      console.warn('oracle-call: the language could not be loaded; English is used', error);
    });
  }

  /** The call's current state. */
  get state(): CallState {
    return this.#call.machine.state;
  }

  /** What the oracle is doing in the call (`listening`, `thinking`, `speaking`); undefined outside one. */
  get oracleState(): OracleState | undefined {
    return this.#conversation.state;
  }

  /** The transcript of the current (or last) call, oldest first. */
  get transcript(): readonly TranscriptEntry[] {
    return this.#conversation.transcript;
  }

  /** Sends a chat message to the oracle in the current call. */
  sendMessage(text: string): Promise<void> {
    return this.#call.sendChat(text);
  }

  /**
   * Starts a call at once (no lobby: a script asked for it) with the remembered devices; resolves once
   * the oracle is in the call, or the attempt has ended or failed.
   */
  callOracle(options: { type?: CallType } = {}): Promise<void> {
    return this.#call.start(options.type ?? this.#defaultCallType());
  }

  /** Hangs up, cancels a call being set up, or leaves the lobby; resolves once it has ended and been cleaned up. */
  endCall(): Promise<void> {
    if (this.state.phase === 'lobby') this.#leaveLobby();
    return this.#call.hangUp();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.sessionId) this.sessionId = crypto.randomUUID();
    void this.#applyLocale();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stopTicker();
  }

  #defaultCallType(): CallType {
    return this.callType === 'video' ? 'video' : 'audio';
  }

  #config(): CallConfig {
    return {
      matrixRoomId: this.matrixRoomId,
      sessionId: this.sessionId,
      oracleTimeoutMs: positiveSeconds(this.oracleTimeout, DEFAULT_ORACLE_TIMEOUT_SECONDS) * 1000,
      reconnectTimeoutMs: positiveSeconds(this.reconnectTimeout, DEFAULT_RECONNECT_SECONDS) * 1000,
      sendRetry: this.sendRetry,
      ...(this.oraclePublicKey ? { oraclePublicKey: this.oraclePublicKey } : {}),
      ...(this.oracleDid ? { oracleDid: this.oracleDid } : {}),
      ...(this.userDid ? { userDid: this.userDid } : {}),
      ...(this.voice ? { agentVoice: this.voice } : {}),
      ...(this.language ? { language: this.language } : {}),
    };
  }

  #onStateChange(next: CallState, previous: CallState): void {
    // Only a change of phase is news (the callId arriving within "calling" shows in the next one).
    if (next.phase === previous.phase) return;
    this.announcementText = announcement(next, this.#call.snapshot.encryption, previous.phase);
    if (next.phase === 'idle' || next.phase === 'ended' || next.phase === 'error') this.devicesOpen = false;
    if (next.phase === 'preparing-media') this.captionsHidden = undefined;
    emit(this, 'oracle-call-state', {
      state: next.phase,
      previous: previous.phase,
      ...(next.phase !== 'idle' && next.callType ? { callType: next.callType } : {}),
      ...('callId' in next && next.callId ? { callId: next.callId } : {}),
    });
    if (next.phase === 'ended') {
      emit(this, 'oracle-call-ended', {
        callType: next.callType,
        ...(next.callId ? { callId: next.callId } : {}),
        reason: next.reason,
        durationSeconds: Math.floor(next.durationMs / 1000),
      });
    }
    if (next.phase === 'error') {
      emit(this, 'oracle-call-error', {
        ...next.error,
        ...(next.callType ? { callType: next.callType } : {}),
        ...(next.callId ? { callId: next.callId } : {}),
      });
    }
  }

  #startTicker(): void {
    if (this.#ticker !== undefined) return;
    this.now = Date.now();
    this.#ticker = setInterval(() => (this.now = Date.now()), 1000);
  }

  #stopTicker(): void {
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  protected override willUpdate(): void {
    this.#hadFocus = this.matches(':focus-within');
    const blocked = this.#call.snapshot.audioBlocked && this.state.phase === 'in-call';
    if (blocked && !this.#audioBlocked) this.announcementText = words.soundBlocked();
    this.#audioBlocked = blocked;
    // The timer ticks only in a call (properties set here join this update).
    if (this.state.phase === 'in-call' || this.state.phase === 'reconnecting') this.#startTicker();
    else this.#stopTicker();
  }

  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    this.#attachVideo('.oracle-video', this.#call.snapshot.oracleVideo);
    this.#attachVideo('.local-video', this.#call.snapshot.localVideo);
    this.#attachVideo('.preview-video', this.#lobby.snapshot.videoTrack);
    // When the focused control went away with the state, focus the state's main control.
    if (this.#hadFocus && !this.matches(':focus-within')) {
      this.renderRoot.querySelector<HTMLElement>('[data-autofocus]')?.focus();
    }
  }

  #attachVideo(selector: string, track: MediaStreamTrack | null): void {
    const video = this.renderRoot.querySelector<HTMLVideoElement>(selector);
    if (!video) return;
    const current = video.srcObject instanceof MediaStream ? video.srcObject.getTracks()[0] : undefined;
    if (track && current !== track) video.srcObject = new MediaStream([track]);
    if (!track && video.srcObject) video.srcObject = null;
  }

  #say(text: string): void {
    this.announcementText = text;
  }

  async #toggleMicrophone(): Promise<void> {
    const enable = !this.#call.snapshot.microphoneEnabled;
    try {
      await this.#call.setMicrophoneEnabled(enable);
      this.#say(enable ? words.microphoneOn() : words.microphoneMuted());
    } catch {
      this.#say(deviceChangeFailed('audioinput'));
    }
  }

  async #toggleCamera(): Promise<void> {
    const enable = !this.#call.snapshot.cameraEnabled;
    try {
      await this.#call.setCameraEnabled(enable);
      this.#say(enable ? words.cameraOn() : words.cameraTurnedOff());
    } catch {
      this.#say(deviceChangeFailed('videoinput'));
    }
  }

  async #selectDevice(kind: DeviceKind, event: Event): Promise<void> {
    const select = event.target as HTMLSelectElement;
    const option = select.selectedOptions[0];
    try {
      await this.#call.selectDevice(kind, select.value);
      const kept = loadChoice();
      saveChoice({ ...kept, devices: { ...kept.devices, [kind]: select.value } });
      this.#say(deviceChosen(kind, option?.textContent ?? select.value));
    } catch {
      this.#say(deviceChangeFailed(kind));
    }
  }

  async #sendChat(text: string): Promise<void> {
    try {
      await this.#call.sendChat(text);
    } catch {
      this.#say(msg('The message could not be sent', { id: 'chat-not-sent' }));
    }
  }

  /** The call buttons: the lobby first, unless `no-lobby`. */
  #start(callType: CallType): void {
    if (this.noLobby) {
      void this.#call.start(callType).catch(() => undefined);
      return;
    }
    this.#call.openLobby(callType);
    this.#call.warmUp();
    this.#call.signInAhead();
    void this.#lobby.open(callType);
  }

  #join(): void {
    const { choice, callType } = this.#lobby;
    // The call takes the lobby's open microphone and camera rather than opening the devices again.
    const tracks = this.#lobby.handOver();
    this.#lobby.close();
    void this.#call.start(callType, choice, tracks).catch(() => undefined);
  }

  #leaveLobby(): void {
    this.#lobby.close();
    this.#call.close();
  }

  /** What the keys do in the current state (nothing in idle, ended or error). */
  #shortcutActions(): ShortcutActions | undefined {
    const state = this.state;
    const lobby = this.#lobby;
    if (state.phase === 'lobby') {
      return {
        toggleMicrophone: () => lobby.snapshot.status === 'ready' && lobby.setMicrophoneEnabled(!lobby.snapshot.microphoneEnabled),
        toggleCamera: () => state.callType === 'video' && void lobby.setCameraEnabled(!lobby.snapshot.cameraEnabled),
        hangUp: () => this.#leaveLobby(),
        pushToTalk: () => undefined,
      };
    }
    if (!ACTIVE_PHASES.includes(state.phase)) return undefined;
    const ready = this.#call.hasMedia && state.phase !== 'preparing-media';
    const video = state.phase !== 'idle' && state.callType === 'video';
    return {
      toggleMicrophone: () => ready && void this.#toggleMicrophone(),
      toggleCamera: () => ready && video && void this.#toggleCamera(),
      hangUp: () => void this.endCall(),
      pushToTalk: (down) => {
        if (!ready) return;
        if (down && !this.#call.snapshot.microphoneEnabled) {
          this.#talkingWhileMuted = true;
          void this.#call.setMicrophoneEnabled(true).catch(() => undefined);
        } else if (!down && this.#talkingWhileMuted) {
          this.#talkingWhileMuted = false;
          void this.#call.setMicrophoneEnabled(false).catch(() => undefined);
        }
      },
    };
  }

  #lobbyView() {
    const lobby = this.#lobby;
    return renderLobby(lobby.snapshot, {
      selectDevice: (kind, deviceId) => void lobby.selectDevice(kind, deviceId),
      toggleMicrophone: () => lobby.setMicrophoneEnabled(!lobby.snapshot.microphoneEnabled),
      toggleCamera: () => void lobby.setCameraEnabled(!lobby.snapshot.cameraEnabled),
      retry: () => void lobby.retry(),
    });
  }

  override render() {
    const state = this.state;
    const active = ACTIVE_PHASES.includes(state.phase) || state.phase === 'ending';
    return html`
      <section part="base" class="base" lang=${currentLocale()} data-phase=${state.phase} aria-label=${words.region()}>
        <div class="sr-only" role="status" aria-live="polite" aria-atomic="true">${this.announcementText}</div>
        ${active ? renderStage(state, this.#call.snapshot) : nothing}
        ${
          state.phase === 'error'
            ? nothing
            : html`<p part="status" class="status">
              <span part="status-text" class="status-text">${statusText(state)}</span>
              ${renderCallFacts(state, this.#call.snapshot, this.now)}
            </p>`
        }
        ${
          state.phase === 'error'
            ? html`<div part="error" class="error">
              <h2 part="error-title" class="error-title">${ERROR_COPY[state.error.reason].title}</h2>
              <p part="error-message" class="error-message">${ERROR_COPY[state.error.reason].message}</p>
            </div>`
            : nothing
        }
        ${state.phase === 'lobby' ? this.#lobbyView() : nothing}
        ${state.phase === 'in-call' ? renderOracleState(this.#call.snapshot.oracleState) : nothing}
        ${
          state.phase === 'in-call' || state.phase === 'reconnecting' || state.phase === 'ending' || state.phase === 'ended'
            ? renderConversation({
                transcript: this.#conversation.transcript,
                hidden: this.captionsHidden ?? this.captions === 'off',
                inCall: state.phase === 'in-call',
                onToggle: () => (this.captionsHidden = !(this.captionsHidden ?? this.captions === 'off')),
                onSend: (text) => this.#sendChat(text),
              })
            : nothing
        }
        <div part="controls" class="controls" role="group" aria-label=${words.controls()}>${renderControls({
          state,
          snapshot: this.#call.snapshot,
          mainCallType: this.#defaultCallType(),
          lastCallType: this.#lastCallType(),
          hasMedia: this.#call.hasMedia,
          devicesOpen: this.devicesOpen,
          lobby: { ready: this.#lobby.snapshot.status === 'ready', callType: this.#lobby.callType },
          start: (callType) => this.#start(callType),
          warmUp: () => this.#call.warmUp(),
          join: () => this.#join(),
          leaveLobby: () => this.#leaveLobby(),
          close: () => this.#call.close(),
          startAudio: () => void this.#call.startAudio().catch(() => undefined),
          toggleMicrophone: () => void this.#toggleMicrophone(),
          toggleCamera: () => void this.#toggleCamera(),
          toggleDevices: () => (this.devicesOpen = !this.devicesOpen),
          hangUp: () => void this.endCall(),
        })}</div>
        ${active && this.devicesOpen && this.#call.hasMedia ? renderDevices(state, this.#call.snapshot, (kind, event) => this.#selectDevice(kind, event)) : nothing}
      </section>
    `;
  }

  #lastCallType(): CallType {
    const state = this.state;
    return state.phase !== 'idle' && state.callType ? state.callType : this.#defaultCallType();
  }
}

/**
 * Follows the conversation for `<oracle-call>` after each change of the media: the oracle's state
 * (the `data-oracle-state` attribute, its event, a polite announcement once it has settled), the
 * transcript (an event per entry added or changed, new words scrolled into view) and the level of the
 * oracle's voice.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { oracleStateText } from './conversation.ts';
import type { OracleState, TranscriptEntry } from './conversation.ts';
import { emit } from './events.ts';
import type { MediaSnapshot } from './media-session.ts';
import { VoiceLevel } from './voice-level.ts';

/** How long a state must hold before a screen reader hears it (not every listening/thinking flicker). */
const SETTLE_MS = 1200;

export interface ConversationHost extends ReactiveControllerHost, HTMLElement {
  readonly renderRoot: HTMLElement | DocumentFragment;
}

export class ConversationController implements ReactiveController {
  #state: OracleState | undefined;
  #transcript: readonly TranscriptEntry[] = [];
  #announcement: ReturnType<typeof setTimeout> | undefined;
  #shownEntries = 0;
  readonly #level = new VoiceLevel();

  constructor(
    private readonly host: ConversationHost,
    /** The media as it is now, and whether the call is under way with the oracle. */
    private readonly media: () => { snapshot: MediaSnapshot; inCall: boolean },
    private readonly say: (text: string) => void,
  ) {
    host.addController(this);
  }

  get state(): OracleState | undefined {
    return this.#state;
  }

  get transcript(): readonly TranscriptEntry[] {
    return this.#transcript;
  }

  hostUpdate(): void {
    const { snapshot, inCall } = this.media();
    const state = inCall ? snapshot.oracleState : undefined;
    if (state !== this.#state) this.#stateChanged(state);
    if (snapshot.transcript !== this.#transcript) this.#transcriptChanged(snapshot.transcript);
  }

  hostUpdated(): void {
    const { snapshot, inCall } = this.media();
    this.#level.follow(inCall ? snapshot.oracleAudio : null, this.host.renderRoot.querySelector<HTMLElement>('.voice-level'));
    this.#scroll();
  }

  hostDisconnected(): void {
    this.#level.stop();
    clearTimeout(this.#announcement);
  }

  #stateChanged(state: OracleState | undefined): void {
    const previous = this.#state;
    this.#state = state;
    if (state) this.host.dataset.oracleState = state;
    else delete this.host.dataset.oracleState;
    emit(this.host, 'oracle-call-oracle-state-change', { state, previous });
    clearTimeout(this.#announcement);
    if (state) this.#announcement = setTimeout(() => this.say(`${oracleStateText(state)}.`), SETTLE_MS);
  }

  #transcriptChanged(transcript: readonly TranscriptEntry[]): void {
    const before = new Map(this.#transcript.map((entry) => [entry.id, entry]));
    this.#transcript = transcript;
    for (const entry of transcript) {
      const old = before.get(entry.id);
      if (old && old.text === entry.text && old.final === entry.final) continue;
      emit(this.host, 'oracle-call-transcript', { entry, transcript });
    }
  }

  /** New words scroll into view, unless the person scrolled up to read earlier ones. */
  #scroll(): void {
    const list = this.host.renderRoot.querySelector<HTMLElement>('.transcript');
    const grew = this.#transcript.length !== this.#shownEntries || this.#transcript.at(-1)?.final === false;
    this.#shownEntries = this.#transcript.length;
    if (!list || !grew) return;
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    if (nearBottom || list.scrollTop === 0) list.scrollTop = list.scrollHeight;
  }
}

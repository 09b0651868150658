/**
 * The conversation pieces of `<oracle-call>`'s template: the oracle's state with its voice level, the
 * captions (the call's transcript) with the button that hides them, and the chat box.
 */
import { html, nothing } from 'lit';
import { ORACLE_STATE_TEXT } from './conversation.ts';
import type { OracleState, TranscriptEntry } from './conversation.ts';

/** The state label and the level bars (their height follows `--level`, set by `VoiceLevel`). */
export function renderOracleState(state: OracleState | undefined) {
  if (!state) return nothing;
  return html`<p part="oracle-state" class="oracle-state" data-state=${state}>
    <span part="voice-level" class="voice-level" aria-hidden="true"><i></i><i></i><i></i></span>
    <span class="oracle-state-text">${ORACLE_STATE_TEXT[state]}</span>
  </p>`;
}

function renderEntry(entry: TranscriptEntry) {
  const who = entry.speaker === 'you' ? 'You' : 'Oracle';
  return html`<li class="entry ${entry.speaker} ${entry.final ? 'final' : 'interim'}" data-speaker=${entry.speaker}>
    <span class="speaker">${who}${entry.typed ? ' (typed)' : ''}:</span>
    <span class="words">${entry.text}</span>${entry.final ? nothing : html`<span class="sr-only"> (still speaking)</span>`}
  </li>`;
}

export interface CaptionsView {
  readonly transcript: readonly TranscriptEntry[];
  readonly hidden: boolean;
  readonly inCall: boolean;
  readonly onToggle: () => void;
  readonly onSend: (text: string) => Promise<void> | void;
}

export function renderConversation(view: CaptionsView) {
  const { transcript, hidden, inCall } = view;
  if (!inCall && transcript.length === 0) return nothing;
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const input = (event.target as HTMLFormElement).elements.namedItem('message') as HTMLInputElement;
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    void view.onSend(text);
  };
  return html`<section part="captions" class="captions" aria-label="Captions">
    <div class="captions-head">
      <h2 class="captions-title">Captions</h2>
      <button part="captions-button" class="small" aria-expanded=${hidden ? 'false' : 'true'} aria-controls="transcript" @click=${view.onToggle}>
        ${hidden ? 'Show captions' : 'Hide captions'}
      </button>
    </div>
    ${hidden
      ? nothing
      : html`<ol part="transcript" id="transcript" class="transcript" tabindex="0" aria-label="Transcript">
          ${transcript.length === 0 ? html`<li class="entry empty">Nothing said yet.</li>` : transcript.map(renderEntry)}
        </ol>`}
    ${inCall
      ? html`<form part="chat" class="chat" @submit=${submit}>
          <label class="sr-only" for="chat-input">Message to the oracle</label>
          <input part="chat-input" id="chat-input" name="message" type="text" autocomplete="off" maxlength="2000" placeholder="Type to the oracle…" />
          <button part="chat-send" class="small" type="submit">Send</button>
        </form>`
      : nothing}
  </section>`;
}

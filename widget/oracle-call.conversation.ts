/**
 * The conversation pieces of `<oracle-call>`'s template: the oracle's state with its voice level, the
 * captions (the call's transcript) with the button that hides them, and the chat box.
 */
import { msg } from '@lit/localize';
import { html, nothing } from 'lit';
import { oracleStateText } from './conversation.ts';
import type { OracleState, TranscriptEntry } from './conversation.ts';

/** The state label and the level bars (their height follows `--level`, set by `VoiceLevel`). */
export function renderOracleState(state: OracleState | undefined) {
  if (!state) return nothing;
  return html`<p part="oracle-state" class="oracle-state" data-state=${state}>
    <span part="voice-level" class="voice-level" aria-hidden="true"><i></i><i></i><i></i></span>
    <span class="oracle-state-text">${oracleStateText(state)}</span>
  </p>`;
}

function renderEntry(entry: TranscriptEntry) {
  const who =
    entry.speaker === 'oracle'
      ? msg('Oracle:', { id: 'caption-oracle' })
      : entry.typed
        ? msg('You (typed):', { id: 'caption-you-typed' })
        : msg('You:', { id: 'caption-you' });
  return html`<li class="entry ${entry.speaker} ${entry.final ? 'final' : 'interim'}" data-speaker=${entry.speaker}>
    <span class="speaker">${who}</span>
    <span class="words">${entry.text}</span>${entry.final ? nothing : html`<span class="sr-only"> ${msg('(still speaking)', { id: 'caption-interim' })}</span>`}
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
  const title = msg('Captions', { id: 'captions-title' });
  return html`<section part="captions" class="captions" aria-label=${title}>
    <div class="captions-head">
      <h2 class="captions-title">${title}</h2>
      <button part="captions-button" class="small" aria-expanded=${hidden ? 'false' : 'true'} aria-controls="transcript" @click=${view.onToggle}>
        ${hidden ? msg('Show captions', { id: 'captions-show' }) : msg('Hide captions', { id: 'captions-hide' })}
      </button>
    </div>
    ${
      hidden
        ? nothing
        : html`<ol part="transcript" id="transcript" class="transcript" tabindex="0" aria-label=${msg('Transcript', { id: 'captions-transcript' })}>
          ${transcript.length === 0 ? html`<li class="entry empty">${msg('Nothing said yet.', { id: 'captions-empty' })}</li>` : transcript.map(renderEntry)}
        </ol>`
    }
    ${
      inCall
        ? html`<form part="chat" class="chat" @submit=${submit}>
          <label class="sr-only" for="chat-input">${msg('Message to the oracle', { id: 'chat-label' })}</label>
          <input part="chat-input" id="chat-input" name="message" type="text" autocomplete="off" maxlength="2000" placeholder=${msg('Type to the oracle…', { id: 'chat-placeholder' })} />
          <button part="chat-send" class="small" type="submit">${msg('Send', { id: 'chat-send' })}</button>
        </form>`
        : nothing
    }
  </section>`;
}

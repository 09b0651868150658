/** Styles of the conversation pieces (oracle-call.conversation.ts), with the element's custom properties. */
import { css } from 'lit';

export const conversationStyles = css`
  .oracle-state {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    margin: 0;
    color: var(--oracle-call-muted);
  }

  .voice-level {
    --level: 0;
    display: inline-flex;
    align-items: center;
    gap: 2px;
    height: 1.1rem;
  }

  .voice-level i {
    width: 4px;
    height: 25%;
    border-radius: 2px;
    background: var(--oracle-call-muted);
    transition: height 80ms linear;
  }

  .oracle-state[data-state='speaking'] .voice-level i {
    background: var(--oracle-call-success);
    height: calc(25% + var(--level) * 75%);
  }

  .oracle-state[data-state='speaking'] .voice-level i:nth-child(2) {
    height: calc(25% + var(--level) * 60%);
  }

  .oracle-state[data-state='thinking'] .voice-level i {
    background: var(--oracle-call-accent);
  }

  .captions {
    display: grid;
    gap: 0.5rem;
  }

  .captions-head {
    display: flex;
    align-items: center;
    justify-content: space-between;
    gap: 0.5rem;
  }

  .captions-title {
    margin: 0;
    font-size: 0.95rem;
  }

  button.small {
    min-height: 2.25rem;
    padding: 0.25rem 0.8rem;
  }

  .transcript {
    margin: 0;
    padding: 0.5rem 0.75rem;
    list-style: none;
    max-height: 12rem;
    overflow-y: auto;
    border: 1px solid var(--oracle-call-border);
    border-radius: calc(var(--oracle-call-radius) - 4px);
    background: var(--oracle-call-surface);
  }

  .transcript:focus-visible,
  .chat input:focus-visible {
    outline: 3px solid var(--oracle-call-focus-ring);
    outline-offset: 2px;
  }

  .entry {
    padding: 0.15rem 0;
  }

  .entry .speaker {
    font-weight: 600;
    margin-right: 0.3rem;
  }

  .entry.oracle .speaker {
    color: var(--oracle-call-accent);
  }

  .entry.interim .words,
  .entry.empty {
    color: var(--oracle-call-muted);
    font-style: italic;
  }

  .chat {
    display: flex;
    gap: 0.5rem;
  }

  .chat input {
    flex: 1;
    min-width: 0;
    min-height: 2.25rem;
    padding: 0.3rem 0.6rem;
    font: inherit;
    color: inherit;
    border-radius: 8px;
    border: 1px solid var(--oracle-call-border);
    background: var(--oracle-call-background);
  }

  @media (prefers-reduced-motion: reduce) {
    .voice-level i {
      transition: none;
    }
  }
`;

/**
 * Styles of `<oracle-call>`. Every colour and size is a custom property with its default on `:host`
 * (light, dark from `prefers-color-scheme`, or forced with `theme="light|dark"`; each pushed to black
 * and white with 2px borders under `prefers-contrast: more`); a page overrides any
 * of them on the element, and styles the main pieces through their `::part`s.
 */
import { css } from 'lit';

const light = css`
  --oracle-call-background: #ffffff;
  --oracle-call-surface: #f2f4f7;
  --oracle-call-foreground: #14171c;
  --oracle-call-muted: #4b5563;
  --oracle-call-accent: #1d4ed8;
  --oracle-call-accent-foreground: #ffffff;
  --oracle-call-danger: #b91c1c;
  --oracle-call-danger-foreground: #ffffff;
  --oracle-call-success: #047857;
  --oracle-call-warning: #b45309;
  --oracle-call-border: #d0d5dd;
  --oracle-call-focus-ring: #1d4ed8;
`;

const dark = css`
  --oracle-call-background: #12151a;
  --oracle-call-surface: #1e232b;
  --oracle-call-foreground: #f3f4f6;
  --oracle-call-muted: #b6bcc6;
  --oracle-call-accent: #93b4ff;
  --oracle-call-accent-foreground: #0b1220;
  --oracle-call-danger: #f87171;
  --oracle-call-danger-foreground: #1a0505;
  --oracle-call-success: #6ee7b7;
  --oracle-call-warning: #fbbf24;
  --oracle-call-border: #3a414d;
  --oracle-call-focus-ring: #93b4ff;
`;

/** High contrast (`prefers-contrast: more`): the same properties, pushed to black and white. */
const lightMore = css`
  --oracle-call-background: #ffffff;
  --oracle-call-surface: #ffffff;
  --oracle-call-foreground: #000000;
  --oracle-call-muted: #000000;
  --oracle-call-accent: #0030b0;
  --oracle-call-accent-foreground: #ffffff;
  --oracle-call-danger: #8a0000;
  --oracle-call-danger-foreground: #ffffff;
  --oracle-call-success: #00502e;
  --oracle-call-warning: #6b3500;
  --oracle-call-border: #000000;
  --oracle-call-focus-ring: #000000;
`;

const darkMore = css`
  --oracle-call-background: #000000;
  --oracle-call-surface: #000000;
  --oracle-call-foreground: #ffffff;
  --oracle-call-muted: #ffffff;
  --oracle-call-accent: #b8d0ff;
  --oracle-call-accent-foreground: #000000;
  --oracle-call-danger: #ffa3a3;
  --oracle-call-danger-foreground: #000000;
  --oracle-call-success: #8dffd0;
  --oracle-call-warning: #ffe066;
  --oracle-call-border: #ffffff;
  --oracle-call-focus-ring: #ffffff;
`;

export const styles = css`
  :host {
    ${light}
    --oracle-call-radius: 12px;
    --oracle-call-border-width: 1px;
    --oracle-call-gap: 0.75rem;
    --oracle-call-font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
    --oracle-call-video-aspect-ratio: 16 / 9;
    display: block;
    color-scheme: light;
    font-family: var(--oracle-call-font-family);
    color: var(--oracle-call-foreground);
  }

  @media (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) {
      ${dark}
      color-scheme: dark;
    }
  }

  :host([theme='dark']) {
    ${dark}
    color-scheme: dark;
  }

  @media (prefers-contrast: more) {
    :host {
      ${lightMore}
      --oracle-call-border-width: 2px;
    }
  }

  @media (prefers-contrast: more) and (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) {
      ${darkMore}
    }
  }

  @media (prefers-contrast: more) {
    :host([theme='dark']) {
      ${darkMore}
    }
  }

  :host([hidden]) {
    display: none;
  }

  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }

  .base {
    display: grid;
    gap: var(--oracle-call-gap);
    padding: var(--oracle-call-gap);
    background: var(--oracle-call-background);
    border: var(--oracle-call-border-width) solid var(--oracle-call-border);
    border-radius: var(--oracle-call-radius);
  }

  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    padding: 0;
    margin: -1px;
    overflow: hidden;
    clip: rect(0, 0, 0, 0);
    white-space: nowrap;
    border: 0;
  }

  .stage {
    position: relative;
    display: grid;
    place-items: center;
    min-height: 8rem;
    aspect-ratio: var(--oracle-call-video-aspect-ratio);
    background: var(--oracle-call-surface);
    border-radius: calc(var(--oracle-call-radius) - 4px);
    overflow: hidden;
  }

  .stage.audio {
    aspect-ratio: auto;
    padding: 1.5rem;
  }

  video {
    display: block;
    background: #000;
  }

  .oracle-video {
    width: 100%;
    height: 100%;
    object-fit: cover;
  }

  .local-video {
    position: absolute;
    right: 0.5rem;
    bottom: 0.5rem;
    width: 28%;
    max-width: 12rem;
    border-radius: 8px;
    border: 2px solid var(--oracle-call-background);
    transform: scaleX(-1);
  }

  .avatar {
    width: 4.5rem;
    height: 4.5rem;
    border-radius: 50%;
    display: grid;
    place-items: center;
    background: var(--oracle-call-accent);
    color: var(--oracle-call-accent-foreground);
    font-size: 1.75rem;
    box-shadow: 0 0 0 0 transparent;
    transition: box-shadow 150ms ease-out;
  }

  .avatar.speaking {
    box-shadow: 0 0 0 6px color-mix(in srgb, var(--oracle-call-success) 55%, transparent);
  }

  .status {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5rem 0.75rem;
    margin: 0;
  }

  .status-text {
    margin: 0;
    font-weight: 600;
  }

  .timer {
    font-variant-numeric: tabular-nums;
    color: var(--oracle-call-muted);
  }

  .badge {
    display: inline-flex;
    align-items: center;
    gap: 0.3rem;
    padding: 0.1rem 0.55rem;
    border-radius: 999px;
    font-size: 0.85rem;
    border: 1px solid currentColor;
  }

  .encryption[data-status='encrypted'] {
    color: var(--oracle-call-success);
  }

  .encryption[data-status='pending'] {
    color: var(--oracle-call-muted);
  }

  .encryption[data-status='not-encrypted'] {
    color: var(--oracle-call-danger);
  }

  .speaking-badge {
    color: var(--oracle-call-success);
  }

  .error {
    padding: 0.75rem;
    border-radius: calc(var(--oracle-call-radius) - 4px);
    border: 1px solid var(--oracle-call-danger);
    background: color-mix(in srgb, var(--oracle-call-danger) 8%, var(--oracle-call-background));
  }

  .error-title {
    margin: 0 0 0.25rem;
    font-size: 1rem;
  }

  .error-message {
    margin: 0;
  }

  .controls {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
  }

  button,
  select {
    font: inherit;
    color: inherit;
  }

  button {
    display: inline-flex;
    align-items: center;
    gap: 0.4rem;
    min-height: 2.75rem;
    padding: 0.5rem 1rem;
    border-radius: 999px;
    border: var(--oracle-call-border-width) solid var(--oracle-call-border);
    background: var(--oracle-call-surface);
    cursor: pointer;
  }

  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }

  button.primary {
    background: var(--oracle-call-accent);
    border-color: var(--oracle-call-accent);
    color: var(--oracle-call-accent-foreground);
  }

  button.danger {
    background: var(--oracle-call-danger);
    border-color: var(--oracle-call-danger);
    color: var(--oracle-call-danger-foreground);
  }

  button[aria-pressed='true'] {
    outline: 2px solid var(--oracle-call-warning);
    outline-offset: -2px;
  }

  button:focus-visible,
  select:focus-visible {
    outline: 3px solid var(--oracle-call-focus-ring);
    outline-offset: 2px;
  }

  svg {
    width: 1.15em;
    height: 1.15em;
    flex: none;
  }

  .devices {
    display: grid;
    gap: 0.5rem;
    margin: 0;
    padding: 0.75rem;
    border: var(--oracle-call-border-width) solid var(--oracle-call-border);
    border-radius: calc(var(--oracle-call-radius) - 4px);
  }

  .devices legend {
    padding: 0 0.25rem;
    font-weight: 600;
  }

  .devices .device {
    display: grid;
    gap: 0.2rem;
  }

  select {
    min-height: 2.5rem;
    padding: 0.3rem 0.5rem;
    border-radius: 8px;
    border: var(--oracle-call-border-width) solid var(--oracle-call-border);
    background: var(--oracle-call-background);
  }

  .lobby {
    display: grid;
    gap: var(--oracle-call-gap);
  }

  .preview-video {
    width: 100%;
    height: 100%;
    object-fit: cover;
    transform: scaleX(-1);
  }

  .preview-off {
    margin: 0;
    padding: 1rem;
    text-align: center;
    color: var(--oracle-call-muted);
  }

  .notice {
    margin: 0;
    padding: 0.5rem 0.75rem;
    border-radius: 8px;
    border: 1px solid var(--oracle-call-warning);
  }

  .lobby-toggles {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5rem 1rem;
  }

  .level {
    display: inline-flex;
    align-items: center;
    gap: 0.5rem;
    color: var(--oracle-call-muted);
  }

  meter {
    width: 8rem;
    height: 0.75rem;
  }

  @media (prefers-reduced-motion: reduce) {
    .avatar {
      transition: none;
    }
  }
`;

/**
 * Keyboard shortcuts, heard only when focus is inside the element (the listener sits on the element,
 * so the host page's keys are never taken): M mutes and unmutes, V turns the camera off and on,
 * Shift+H hangs up, and holding T talks while muted (push-to-talk). Keys typed into a text field, or
 * with Ctrl, Alt or Meta held, are left alone. The buttons carry the keys in `aria-keyshortcuts`.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** The keys, as `aria-keyshortcuts` names them. */
export const SHORTCUTS = { mute: 'M', camera: 'V', hangUp: 'Shift+H', pushToTalk: 'T' } as const;

export interface ShortcutActions {
  toggleMicrophone(): void;
  toggleCamera(): void;
  hangUp(): void;
  /** Push-to-talk: `true` when the key goes down (unmute if muted), `false` when it is let go. */
  pushToTalk(down: boolean): void;
}

function typing(event: KeyboardEvent): boolean {
  const target = event.composedPath()[0];
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}

export class ShortcutController implements ReactiveController {
  #talking = false;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly actions: () => ShortcutActions | undefined,
  ) {
    host.addController(this);
  }

  readonly #onKeyDown = (event: KeyboardEvent) => {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || typing(event)) return;
    const actions = this.actions();
    if (!actions) return;
    const key = event.key.toLowerCase();
    if (key === 't') {
      event.preventDefault();
      if (event.repeat || this.#talking) return;
      this.#talking = true;
      actions.pushToTalk(true);
      return;
    }
    if (event.repeat) return;
    if (key === 'm' && !event.shiftKey) actions.toggleMicrophone();
    else if (key === 'v' && !event.shiftKey) actions.toggleCamera();
    else if (key === 'h' && event.shiftKey) actions.hangUp();
    else return;
    event.preventDefault();
  };

  readonly #onKeyUp = (event: KeyboardEvent) => {
    if (event.key.toLowerCase() === 't') this.#release();
  };

  /** Focus left the element while the key was held: stop talking (its keyup will not reach us). */
  readonly #onFocusOut = (event: FocusEvent) => {
    if (!this.host.contains(event.relatedTarget as Node | null) && !this.host.shadowRoot?.contains(event.relatedTarget as Node | null)) this.#release();
  };

  #release(): void {
    if (!this.#talking) return;
    this.#talking = false;
    this.actions()?.pushToTalk(false);
  }

  hostConnected(): void {
    this.host.addEventListener('keydown', this.#onKeyDown);
    this.host.addEventListener('keyup', this.#onKeyUp);
    this.host.addEventListener('focusout', this.#onFocusOut);
  }

  hostDisconnected(): void {
    this.host.removeEventListener('keydown', this.#onKeyDown);
    this.host.removeEventListener('keyup', this.#onKeyUp);
    this.host.removeEventListener('focusout', this.#onFocusOut);
    this.#talking = false;
  }
}

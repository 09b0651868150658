/** Mounts `<oracle-call>` with fake Matrix, backend and media, and records the events it fires. */
import { fixture, waitUntil } from '@open-wc/testing';
import '../../../widget/oracle-call.ts';
import type { OracleCall } from '../../../widget/oracle-call.ts';
import type { OracleCallEventDetails } from '../../../widget/events.ts';
import type { CallPhase } from '../../../widget/state.ts';
import { FakeBackend } from './fake-backend.ts';
import { FakeMediaDevices } from './fake-devices.ts';
import { FakeMediaFactory } from './fake-media.ts';
import { FakeTransport } from './fake-transport.ts';

export const ROOM_ID = '!room:example.org';
/** Retries fast enough for tests, with the same shape as the default. */
export const FAST_RETRY = { attempts: 4, baseDelayMs: 2, maxDelayMs: 10 };

export interface RecordedEvent<K extends keyof OracleCallEventDetails = keyof OracleCallEventDetails> {
  readonly type: K;
  readonly detail: OracleCallEventDetails[K];
  readonly bubbles: boolean;
  readonly composed: boolean;
}

export interface Harness {
  readonly el: OracleCall;
  readonly transport: FakeTransport;
  readonly backend: FakeBackend;
  readonly media: FakeMediaFactory;
  /** The lobby's media devices. */
  readonly devices: FakeMediaDevices;
  /** Every event the element fired, as seen on `document` (so they bubbled out of it). */
  readonly events: RecordedEvent[];
  /** The `state` of each `oracle-call-state` event, in order. */
  readonly states: CallPhase[];
  dispose(): void;
}

/** Mounts the element; without the lobby (`no-lobby`) unless `options.lobby`, so a call button starts the call. */
export async function mount(attributes: Record<string, string> = {}, options: { lobby?: boolean } = {}): Promise<Harness> {
  const transport = new FakeTransport();
  const backend = new FakeBackend();
  const media = new FakeMediaFactory();
  const devices = new FakeMediaDevices();
  const events: RecordedEvent[] = [];
  const states: CallPhase[] = [];
  const record = (event: Event) => {
    const custom = event as CustomEvent;
    events.push({ type: event.type as keyof OracleCallEventDetails, detail: custom.detail, bubbles: event.bubbles, composed: event.composed });
    if (event.type === 'oracle-call-state') states.push(custom.detail.state);
  };
  const names = ['oracle-call-state', 'oracle-call-ended', 'oracle-call-error', 'oracle-call-oracle-state-change', 'oracle-call-transcript'];
  for (const name of names) document.addEventListener(name, record);

  const element = document.createElement('oracle-call');
  element.setAttribute('matrix-room-id', ROOM_ID);
  element.setAttribute('backend-url', 'http://backend.invalid');
  if (!options.lobby) element.setAttribute('no-lobby', '');
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.transport = transport;
  element.backendClient = backend;
  element.mediaSessions = media;
  element.mediaDevices = devices;
  element.sendRetry = FAST_RETRY;
  const el = await fixture<OracleCall>(element);
  return {
    el,
    transport,
    backend,
    media,
    devices,
    events,
    states,
    dispose: () => {
      for (const name of names) document.removeEventListener(name, record);
    },
  };
}

export async function untilPhase(el: OracleCall, phase: CallPhase, timeout = 4000): Promise<void> {
  await waitUntil(() => el.state.phase === phase, `the call never reached ${phase} (it is ${el.state.phase})`, { timeout });
  await el.updateComplete;
}

/** The element's first piece with this part name. */
export function part<T extends HTMLElement = HTMLElement>(el: OracleCall, name: string): T | null {
  return el.shadowRoot!.querySelector<T>(`[part~="${name}"]`);
}

export function click(el: OracleCall, name: string): void {
  const button = part<HTMLButtonElement>(el, name);
  if (!button) throw new Error(`no ${name}`);
  button.click();
}

export function text(el: OracleCall, name: string): string {
  return part(el, name)?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
}

/** What the aria-live region says now. */
export function announced(el: OracleCall): string {
  const region = el.shadowRoot!.querySelector('[aria-live]');
  return region?.textContent?.trim() ?? '';
}

export function eventsOf<K extends keyof OracleCallEventDetails>(h: Harness, type: K): RecordedEvent<K>[] {
  return h.events.filter((event): event is RecordedEvent<K> => event.type === type);
}

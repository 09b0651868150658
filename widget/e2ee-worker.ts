/**
 * The E2EE worker the element uses when the page sets none: a bundle registers the worker it ships
 * (see `bundle-entry.ts`); unbundled, LiveKit's worker module is resolved next to the element.
 */
let registered: (() => Worker) | undefined;

export function setDefaultE2EEWorker(create: () => Worker): void {
  registered = create;
}

export function defaultE2EEWorker(): (() => Worker) | undefined {
  return registered;
}

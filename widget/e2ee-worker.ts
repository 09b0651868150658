/**
 * The E2EE worker the element uses when the page sets none: a bundle registers the worker it ships
 * (see `bundle-entry.ts`); unbundled, LiveKit's worker module is resolved next to the element.
 *
 * A page may load the element from the oracle's origin (`<script type="module" src="https://oracle…/oracle-call.js">`),
 * and browsers start no worker from another origin than the page's. So a worker on another origin is
 * started through a same-origin `blob:` module that imports it: its file must be served with CORS (as a
 * cross-origin module script must be anyway), and the page's Content-Security-Policy must allow
 * `worker-src blob:`.
 */
let registered: (() => Worker) | undefined;

export function setDefaultE2EEWorker(create: () => Worker): void {
  registered = create;
}

export function defaultE2EEWorker(): (() => Worker) | undefined {
  return registered;
}

/** One `blob:` module per worker file, kept for the page's life (a few bytes; a call may start many workers). */
const shims = new Map<string, string>();

/** Starts the module worker at `url`, from the page's origin or, through a `blob:` module that imports it, from another. */
export function workerFrom(url: URL): Worker {
  if (url.origin === globalThis.location?.origin) return new Worker(url, { type: 'module' });
  let shim = shims.get(url.href);
  if (!shim) {
    shim = URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)};\n`], { type: 'text/javascript' }));
    shims.set(url.href, shim);
  }
  return new Worker(shim, { type: 'module' });
}

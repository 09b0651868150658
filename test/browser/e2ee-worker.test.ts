/**
 * Starting the E2EE worker when the element was loaded from another origin than the page's (the
 * script-tag case: the oracle's origin): the browser refuses a worker from that origin, and
 * `workerFrom` starts it through a same-origin `blob:` module. The dev server answers the fixtures with
 * CORS, as the oracle's origin must answer the element's files; `localhost` and `127.0.0.1` are two
 * origins of the same server.
 */
import { expect } from '@open-wc/testing';
import { workerFrom } from '../../widget/e2ee-worker.ts';

const FIXTURE = '/test/browser/fixtures/echo-worker.js';

/** The same server under the other loopback name: another origin. */
function otherOrigin(): URL {
  const url = new URL(FIXTURE, window.location.href);
  url.hostname = url.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
  return url;
}

function ask(worker: Worker, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the worker did not answer within 5 s')), 5000);
    worker.onmessage = (event) => {
      clearTimeout(timer);
      resolve(String(event.data));
    };
    worker.onerror = (event) => {
      clearTimeout(timer);
      reject(new Error(`the worker failed: ${event.message}`));
    };
    worker.postMessage(message);
  });
}

describe('the E2EE worker from the page’s origin or another', () => {
  const workers: Worker[] = [];
  afterEach(() => {
    for (const worker of workers.splice(0)) worker.terminate();
  });

  it('starts a worker on the page’s own origin as it is', async () => {
    const worker = workerFrom(new URL(FIXTURE, window.location.href));
    workers.push(worker);
    expect(await ask(worker, 'ping')).to.equal(`echo ping from ${window.location.origin}`);
  });

  it('the browser refuses a worker from another origin, and workerFrom starts it through a blob: module', async () => {
    const url = otherOrigin();
    expect(url.origin).not.to.equal(window.location.origin);
    expect(() => new Worker(url, { type: 'module' })).to.throw(/cannot be accessed from origin|SecurityError/);
    const worker = workerFrom(url);
    workers.push(worker);
    // The worker runs on the page's origin (a blob: module made by the page) with the other origin's code,
    // its own imports resolved against its real URL.
    expect(await ask(worker, 'ping')).to.equal(`echo ping from ${window.location.origin}`);
    const second = workerFrom(url);
    workers.push(second);
    expect(await ask(second, 'again')).to.equal(`echo again from ${window.location.origin}`);
  });
});

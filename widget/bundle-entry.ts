/**
 * The script-tag module (`oracle-call.js`): defines `<oracle-call>` and ships LiveKit's E2EE worker as
 * its own file. A page needs only `<script type="module" src=".../oracle-call.js"></script>`.
 */
import e2eeWorkerUrl from 'livekit-client/e2ee-worker?worker&url';
import { setDefaultE2EEWorker, workerFrom } from './e2ee-worker.ts';

// Resolved against this module, not the page: the element may be loaded from the oracle's origin.
setDefaultE2EEWorker(() => workerFrom(new URL(e2eeWorkerUrl, import.meta.url)));

export * from './index.ts';
export { setDefaultE2EEWorker } from './e2ee-worker.ts';

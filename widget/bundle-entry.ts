/**
 * The script-tag module (`oracle-call.js`): defines `<oracle-call>` and ships LiveKit's E2EE worker as
 * its own file. A page needs only `<script type="module" src=".../oracle-call.js"></script>`.
 */
import E2EEWorker from 'livekit-client/e2ee-worker?worker';
import { setDefaultE2EEWorker } from './e2ee-worker.ts';

setDefaultE2EEWorker(() => new E2EEWorker());

export * from './index.ts';
export { setDefaultE2EEWorker } from './e2ee-worker.ts';

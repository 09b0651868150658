/**
 * Loaded first in every job process (`--import`, set by `leanJobProcesses`): before the framework and
 * the agent load, the process waits while calls of its worker are being set up (agent/warm-up-turn.ts).
 */
import { waitForTurn } from './warm-up-turn.ts';

await waitForTurn();

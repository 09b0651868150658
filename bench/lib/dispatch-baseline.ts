/**
 * bench:call's agent-dispatch baseline: what a site would use instead of our call, LiveKit's own agent
 * path. A page joins a fresh room with a token that dispatches an agent (`RoomConfiguration` agents,
 * the E2EE key in the dispatch metadata); the minimal agents-js worker of
 * bench/lib/dispatch-baseline-agent.ts joins with our agent's room options and publishes a tone at once.
 * Timed in the page from the start of the join to the first decoded agent audio (bench/lib/call-page.ts).
 */
import { randomBytes } from 'node:crypto';
import { AccessToken, RoomAgentDispatch, RoomConfiguration } from 'livekit-server-sdk';
import type { LiveKitServer } from '../../scripts/services/livekit.ts';
import { startAgent } from '../../scripts/stack/agent-process.ts';
import type { AgentProcess } from '../../scripts/stack/agent-process.ts';
import type { Stack } from '../../scripts/stack/stack.ts';

export const BASELINE_AGENT_NAME = 'bench-dispatch-baseline';

/** Starts the baseline worker (one prewarmed idle job process) and waits until it is registered. */
export async function startBaselineWorker(stack: Stack): Promise<AgentProcess> {
  return startAgent(stack, { LIVEKIT_AGENT_NAME: BASELINE_AGENT_NAME, BASELINE_AGENT_NAME }, 'bench/lib/dispatch-baseline-agent.ts');
}

/** A fresh room name, a fresh E2EE key, and a token for `identity` that dispatches the baseline agent with the key. */
export async function dispatchingToken(livekit: LiveKitServer, identity: string): Promise<{ roomName: string; key: string; token: string }> {
  const roomName = `bench-dispatch-${randomBytes(6).toString('hex')}`;
  const key = randomBytes(32).toString('hex');
  const token = new AccessToken(livekit.apiKey, livekit.apiSecret, { identity, ttl: '10m' });
  token.addGrant({ room: roomName, roomJoin: true, canPublish: true, canSubscribe: true });
  token.roomConfig = new RoomConfiguration({
    agents: [new RoomAgentDispatch({ agentName: BASELINE_AGENT_NAME, metadata: JSON.stringify({ key }) })],
  });
  return { roomName, key, token: await token.toJwt() };
}

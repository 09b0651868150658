/**
 * bench:call's baseline agent: the least an agents-js worker does on LiveKit's own agent path. It is
 * dispatched by the person's token (`RoomConfiguration` agents, explicit dispatch under its own agent
 * name), takes the E2EE key from the dispatch metadata (`{"key": "<64 hex>"}`), joins with the room
 * options of our agent (autoSubscribe, no dynacast, `encryption` GCM with the key's UTF-8 bytes) and
 * publishes a tone at once, as a microphone; it leaves when the person does. It logs when its job
 * started, when it was connected and when its tone was published (bench:call's baseline breakdown).
 *
 * Run as a worker: `node bench/lib/dispatch-baseline-agent.ts start` with LIVEKIT_URL,
 * LIVEKIT_API_KEY, LIVEKIT_API_SECRET, BASELINE_AGENT_NAME and AGENT_HTTP_PORT (bench/lib/baseline-worker.ts
 * does). One idle job process is kept prewarmed, as our agent's bench runs do (the warm case).
 */
import { fileURLToPath } from 'node:url';
import { ServerOptions, cli, defineAgent, log } from '@livekit/agents';
import type { JobContext } from '@livekit/agents';
import { RoomEvent } from '@livekit/rtc-node';
import { encryptedRoomOptions, publishTone } from '../../scripts/stack/participants.ts';

export default defineAgent({
  entry: async (ctx: JobContext) => {
    // The same steps as our agent logs, for bench:call's breakdown of the baseline.
    const logger = log().child({ room: ctx.job.room?.name });
    logger.info('baseline: job started');
    const { key } = JSON.parse(ctx.job.metadata) as { key: string };
    await ctx.room.connect(ctx.info.url, ctx.info.token, encryptedRoomOptions(key));
    logger.info('baseline: connected to the room');
    const tone = await publishTone(ctx.room, 440);
    logger.info('baseline: tone published');
    const left = new Promise<void>((resolve) => {
      ctx.room.on(RoomEvent.ParticipantDisconnected, () => resolve());
      ctx.room.on(RoomEvent.Disconnected, () => resolve());
    });
    ctx.addShutdownCallback(async () => tone.stop());
    await left;
    ctx.shutdown('the person left');
  },
});

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  cli.runApp(
    new ServerOptions({
      agent: fileURLToPath(import.meta.url),
      agentName: env('BASELINE_AGENT_NAME'),
      wsURL: env('LIVEKIT_URL'),
      apiKey: env('LIVEKIT_API_KEY'),
      apiSecret: env('LIVEKIT_API_SECRET'),
      numIdleProcesses: 1,
      // The framework's default load is the machine's CPU, and above 0.7 the worker takes no job: on a
      // shared machine it would refuse the dispatch. Our agent counts call slots; this one takes all.
      loadFunc: async () => 0,
      loadThreshold: 1,
      initializeProcessTimeout: 60_000,
      host: '127.0.0.1',
      port: Number(env('AGENT_HTTP_PORT')),
    }),
  );
}

/**
 * The oracle agent (a LiveKit agents job): takes the dispatch, decrypts the call key it carries (the
 * backend confirms the call meanwhile), joins the room with E2EE under the same room option as the
 * browser (`encryption`), runs the brain once the call is confirmed, and leaves when the person leaves.
 * The plaintext key stays in this process; it is never logged.
 */
import { defineAgent, log as frameworkLog } from '@livekit/agents';
import type { JobContext, JobProcess, VAD } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { EncryptionType, RoomEvent } from '@livekit/rtc-node';
import type { RemoteParticipant } from '@livekit/rtc-node';
import { ORACLE_ENDED_ATTRIBUTE, parseCallId } from '../protocol/index.ts';
import { readDispatchMetadata } from '../protocol/api/dispatch-metadata.ts';
import type { ReadDispatch } from '../protocol/api/dispatch-metadata.ts';
import { createBrain, preloadBrain } from './brain.ts';
import { loadAgentConfig } from './config.ts';
import type { AgentConfig } from './config.ts';
import { monitorJobLoop } from './job-processes.ts';
import { HandoffError, assertSameCall, fetchKeyAnswer, obtainCallKey, openCallKey, reportFailure, warmKeyPath } from './key-handoff.ts';
import type { CallKeyInfo } from './key-handoff.ts';
import { keepNativeLogsNative } from './native-logs.ts';
import { keepConversationsOutOfLogs } from './private-logs.ts';
import { clearSetup, warmUpWaitedMs } from './warm-up-turn.ts';

interface ProcessData {
  vad: VAD;
}

/** The person, once they join; undefined when they have not within `timeoutMs`. */
async function personWithin(ctx: JobContext<ProcessData>, timeoutMs: number): Promise<RemoteParticipant | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, timeoutMs, undefined)));
  try {
    return await Promise.race([ctx.waitForParticipant(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

let processConfig: AgentConfig | undefined;

/**
 * The agent's configuration, read once per job process (in its prewarm): reading it parses the
 * environment and checks the oracle's private key (secp256k1), tens of milliseconds that the job's
 * start would otherwise spend again, on the call's set-up path.
 */
function jobConfig(): AgentConfig {
  processConfig ??= loadAgentConfig();
  return processConfig;
}

/** How long after its voice is published the set-up waits for the person to receive it. */
const VOICE_RECEIVED_WITHIN_MS = 1000;

export default defineAgent<ProcessData>({
  prewarm: async (proc: JobProcess<ProcessData>) => {
    // First, before anything of rtc-node runs: the native side's log records stay there.
    if (!keepNativeLogsNative()) frameworkLog().warn("rtc-node's client was not found: its native log records still cross to JavaScript");
    const config = jobConfig();
    const [vad] = await Promise.all([silero.VAD.load(), warmKeyPath(config), preloadBrain(config)]);
    proc.userData.vad = vad;
    monitorJobLoop();
    const waited = warmUpWaitedMs();
    if (waited !== undefined && waited >= 1) frameworkLog().info({ waitedMs: Math.round(waited) }, 'warmed up after the calls being set up');
  },

  entry: async (ctx: JobContext<ProcessData>) => {
    // However the set-up ends, the job processes waiting for it may start.
    let setupOver = false;
    const endSetup = () => {
      if (setupOver) return;
      setupOver = true;
      try {
        clearSetup(ctx.job.id);
      } catch {
        // The mark stops counting by itself (MAX_SETUP_MS).
      }
    };
    ctx.addShutdownCallback(async () => endSetup());
    const config = jobConfig();
    // Before anything of the call exists: every logger made from here on drops what was said.
    const logs = keepConversationsOutOfLogs(config.logConversation);
    let dispatch: ReadDispatch;
    try {
      dispatch = readDispatchMetadata(ctx.job.metadata);
    } catch (error) {
      logs.child({ room: ctx.job.room?.name }).error({ reason: (error as Error).message }, 'dispatch without valid metadata; staying out');
      ctx.shutdown('invalid dispatch');
      return;
    }
    const { callId } = dispatch;
    const log = logs.child({ callId, room: ctx.job.room?.name });
    try {
      // The key is the callId's, and the room joined is the dispatch's: they must be one call.
      if (parseCallId(callId).roomName !== ctx.job.room?.name) throw new Error("the callId names another room than the dispatch's");
    } catch (error) {
      log.error({ reason: (error as Error).message }, 'dispatch without a valid callId for its room; staying out');
      ctx.shutdown('invalid dispatch');
      return;
    }

    const stayOut = async (error: unknown, joined: boolean) => {
      const failure = error instanceof HandoffError ? error : new HandoffError('backend_error', String(error));
      log.error(
        { reason: failure.reason, detail: failure.message },
        joined
          ? 'the backend did not confirm the call; the oracle leaves it having said nothing'
          : 'cannot obtain the call key; the oracle stays out of the call',
      );
      if (failure.reason === 'key_decryption_failed') {
        const reported = await reportFailure(config, callId, failure.reason);
        log.info({ reported }, reported ? 'the backend was told the call failed' : 'the backend could not be told the call failed');
      }
      ctx.shutdown(`key handoff failed: ${failure.reason}`);
    };
    const onRetry = (attempt: number, error: HandoffError, delayMs: number) =>
      log.warn({ attempt, delayMs: Math.round(delayMs), reason: error.reason, detail: error.message }, 'key request failed, retrying');

    // The key comes with the dispatch (a backend of before that sends only the callId: fetched first).
    // The key route is asked all the same, while the room connection is made: it confirms that the
    // backend holds this call and has not ended it, and nothing is said in the call before it has.
    log.info(dispatch.answer ? 'opening the call key from the dispatch' : 'fetching the call key');
    const keyAsked = performance.now();
    let key: CallKeyInfo;
    let confirmation: Promise<unknown>;
    try {
      if (dispatch.answer) {
        const dispatched = dispatch.answer;
        confirmation = fetchKeyAnswer(config, callId, onRetry).then((confirmed) => {
          assertSameCall(dispatched, confirmed);
          log.info({ ms: Math.round(performance.now() - keyAsked) }, 'call confirmed by the backend');
        });
        // Awaited before the oracle says anything; a failure meanwhile is not an unhandled rejection.
        confirmation.catch(() => {});
        try {
          key = openCallKey(config, dispatched);
        } catch (error) {
          // A key that does not decrypt ends the call (reported below) only when it is the backend's own
          // call's: a dispatch that is not the backend's call fails here with that reason instead.
          await confirmation;
          throw error;
        }
      } else {
        key = await obtainCallKey(config, callId, onRetry);
        confirmation = Promise.resolve();
      }
    } catch (error) {
      await stayOut(error, false);
      return;
    }
    log.info({ ms: Math.round(performance.now() - keyAsked) }, 'call key obtained');

    // The brain is made while the room connection is (it loads its module, the pipeline's clients).
    const [brain] = await Promise.all([
      createBrain(
        config,
        { vad: ctx.proc.userData.vad },
        {
          ...(key.agentVoice ? { voice: key.agentVoice } : {}),
          ...(key.language ? { language: key.language } : {}),
        },
      ),
      ctx.room.connect(ctx.info.url, ctx.info.token, {
        autoSubscribe: true,
        dynacast: false,
        encryption: {
          keyProviderOptions: { sharedKey: new TextEncoder().encode(key.callKey) },
          encryptionType: EncryptionType.GCM,
        },
      }),
    ]);
    log.info({ callType: key.callType, userId: key.userId, userDid: key.userDid, voice: key.agentVoice, language: key.language }, 'joined the call with E2EE');
    try {
      await confirmation;
    } catch (error) {
      await stayOut(error, true);
      return;
    }
    // What needs no person (the echo oracle's voice track) is ready before they arrive: the person
    // hears the oracle as soon as they subscribe, as with an agent that publishes when it joins.
    // The set-up is over once the person receives the oracle's voice (LiveKit tells the agent when its
    // track is subscribed); a brain that publishes nothing before the person arrives is set up now.
    const received = new Promise<void>((resolve) => ctx.room.once(RoomEvent.LocalTrackSubscribed, () => resolve()));
    await brain.prepare?.(ctx.room, log);
    if ((ctx.room.localParticipant?.trackPublications.size ?? 0) > 0) {
      void Promise.race([received, new Promise((resolve) => setTimeout(resolve, VOICE_RECEIVED_WITHIN_MS).unref())]).then(endSetup);
    } else {
      endSetup();
    }

    const user = await personWithin(ctx, config.joinTimeoutMs);
    if (!user) {
      // Nobody came: free the slot for someone who will, and end the call with that reason.
      log.info({ waitedMs: config.joinTimeoutMs }, 'the person did not join; leaving the call (no_show)');
      const reported = await reportFailure(config, callId, 'no_show');
      if (!reported) log.warn('the backend could not be told about the no-show');
      ctx.shutdown('no_show');
      return;
    }
    const ended = new AbortController();
    const onLeft = (participant: RemoteParticipant) => {
      if (participant.identity === user.identity) ended.abort();
    };
    ctx.room.on(RoomEvent.ParticipantDisconnected, onLeft);
    ctx.room.on(RoomEvent.Disconnected, () => ended.abort());
    ctx.addShutdownCallback(async () => ended.abort());

    try {
      await brain.run({ room: ctx.room, user, callType: key.callType, log, signal: ended.signal });
    } catch (error) {
      if (!ended.signal.aborted) {
        log.error({ err: (error as Error).message }, 'the oracle failed during the call');
        // Said before leaving, so the person learns why rather than watching a silent oracle go.
        await ctx.room.localParticipant?.setAttributes({ [ORACLE_ENDED_ATTRIBUTE]: 'cannot-answer' }).catch(() => {});
      }
    }
    log.info(ended.signal.aborted ? 'the person left; leaving the call' : 'the oracle cannot carry on; leaving the call');
    ctx.shutdown('call over');
  },
});

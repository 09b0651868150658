/**
 * `npm run agent`: the oracle agent worker. Checks the configuration first (a bad private key stops it
 * with a clear line), then registers with LiveKit for explicit dispatch under the agent name. Each call
 * runs in its own job process, so a crash in one call does not end the others.
 */
import { fileURLToPath } from 'node:url';
import { ServerOptions, cli } from '@livekit/agents';
import { CallSlots } from './call-slots.ts';
import { AgentConfigError, loadAgentConfig } from './config.ts';
import { leanJobProcesses } from './job-processes.ts';
import { withoutLocalInference } from './local-inference.ts';
import { checkModels } from './model-check.ts';
import { markSetup, removeOrphanedSetupsFolders, removeSetupsFolder } from './warm-up-turn.ts';

let config;
try {
  config = loadAgentConfig();
} catch (error) {
  if (error instanceof AgentConfigError) {
    process.stderr.write(`oracle-call agent cannot start: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

if (config.brain === 'openai') {
  const check = await checkModels(config.openai);
  if (check.kind === 'missing') {
    process.stderr.write(
      `oracle-call agent cannot start: the OpenAI-compatible server has no model ${check.missing.join(', ')} (it lists: ${check.available.join(', ') || 'none'})\n`,
    );
    process.exit(1);
  }
  process.stderr.write(
    check.kind === 'ok'
      ? `oracle-call agent: models ${check.models.join(', ')} found on the server\n`
      : `oracle-call agent: models not checked: ${check.why}\n`,
  );
}

if (process.argv.length < 3) process.argv.push('start', '--log-level', config.logLevel);
process.stderr.write(
  `oracle-call agent "${config.agentName}" (oracle public key ${config.oraclePublicKey}, ${config.brain} brain, up to ${config.maxCalls} calls, ${config.idleProcesses} warm job processes) connecting to ${config.livekit.url}\n`,
);

// Before the framework forks the first job process: they inherit this environment.
leanJobProcesses(process.env, config.idleProcesses);
// The echo oracle detects no turns: no inference process for the framework's end-of-turn model.
if (config.brain === 'echo') withoutLocalInference();

// Each accepted call is marked as being set up: the job process that replaces the one it takes waits
// for the set-up before it loads (agent/warm-up-turn.ts).
const slots = new CallSlots(
  config.maxCalls,
  (message, detail) => process.stderr.write(`${JSON.stringify({ ...detail, msg: message })}\n`),
  (jobId) => {
    try {
      markSetup(jobId);
    } catch (error) {
      // Only the order of warm-ups depends on it: the call goes on.
      process.stderr.write(`${JSON.stringify({ jobId, err: (error as Error).message, msg: 'the call could not be marked as being set up' })}\n`);
    }
  },
);
removeOrphanedSetupsFolders();
process.once('exit', () => removeSetupsFolder());
// On these the framework drains: it reports the worker full until its calls have ended, and no report
// of the slots may say otherwise meanwhile.
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => slots.stop());

cli.runApp(
  new ServerOptions({
    agent: fileURLToPath(new URL('./oracle-agent.ts', import.meta.url)),
    agentName: config.agentName,
    wsURL: config.livekit.url,
    apiKey: config.livekit.apiKey,
    apiSecret: config.livekit.apiSecret,
    numIdleProcesses: config.idleProcesses,
    // Load is the share of call slots in use, not the machine's CPU: predictable on small hosts. Each
    // change is reported at once, and each job request is checked against the slots (a burst comes
    // faster than load reports): agent/call-slots.ts.
    loadFunc: slots.load,
    requestFunc: slots.request,
    loadThreshold: 1,
    // Starting a job process (TypeScript, the framework, the VAD model) takes a few CPU-seconds: on a
    // busy host the framework's 10 s default kills and restarts it in a loop.
    initializeProcessTimeout: 60_000,
    host: '127.0.0.1',
    port: config.httpPort,
  }),
);

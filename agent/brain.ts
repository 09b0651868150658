/**
 * Chooses the oracle's behaviour by configuration: the offline echo oracle (default) or an
 * OpenAI-compatible voice pipeline. The interface they implement is in `oracle-brain.ts`, so the
 * brains import it without importing this factory back.
 */
import type { AgentConfig } from './config.ts';
import type { BrainResources, CallChoices, OracleBrain } from './oracle-brain.ts';

/** The configured brain's module (loaded once per process: the module system keeps it). */
const brainModule = (config: AgentConfig) => (config.brain === 'openai' ? import('./brains/openai.ts') : import('./brains/echo.ts'));

/**
 * Loads the configured brain's module ahead of a call (the job process's prewarm): loading it (and
 * compiling its TypeScript) at the call would sit between the dispatch and the oracle's join.
 */
export async function preloadBrain(config: AgentConfig): Promise<void> {
  await brainModule(config);
}

export async function createBrain(config: AgentConfig, resources: BrainResources, choices: CallChoices = {}): Promise<OracleBrain> {
  if (config.brain === 'openai') {
    const { OpenAiBrain } = await import('./brains/openai.ts');
    return new OpenAiBrain(config.openai, resources.vad, choices);
  }
  const { EchoBrain } = await import('./brains/echo.ts');
  return new EchoBrain(resources.vad);
}

/**
 * The agents framework starts an inference process beside the worker whenever the package of its
 * local end-of-turn model (`@livekit/local-inference`) can be loaded: about 330 MB resident and a CPU
 * second at start, for a model only a voice pipeline with turn detection uses. The echo oracle has
 * none, so its worker keeps the framework from loading that package (a resolve hook in this process
 * only; the job processes do not load it either way). The framework then logs that local end-of-turn
 * detection is disabled, which is true and harmless here.
 */
import { registerHooks } from 'node:module';

const PACKAGE = '@livekit/local-inference';

export function withoutLocalInference(): void {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === PACKAGE) {
        throw Object.assign(new Error(`${PACKAGE} is not used by the echo oracle`), { code: 'MODULE_NOT_FOUND' });
      }
      return nextResolve(specifier, context);
    },
  });
}

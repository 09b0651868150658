/**
 * At start, with the OpenAI-compatible brain: asks the server which models it has (`GET /v1/models`)
 * and names each configured one it does not list, so a typo shows at start rather than as a silent
 * oracle in the first call. A server that does not answer the list (many local ones) is not an error.
 */
import type { OpenAiSettings } from './config.ts';

export type ModelCheck =
  | { readonly kind: 'ok'; readonly models: readonly string[] }
  | { readonly kind: 'missing'; readonly missing: readonly string[]; readonly available: readonly string[] }
  | { readonly kind: 'unchecked'; readonly why: string };

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export async function checkModels(settings: OpenAiSettings, timeoutMs = 5000): Promise<ModelCheck> {
  const base = (settings.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetch(`${base}/models`, {
      headers: settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return { kind: 'unchecked', why: `${base}/models could not be reached (${(error as Error).message})` };
  }
  if (!response.ok) return { kind: 'unchecked', why: `${base}/models answered HTTP ${response.status}` };
  const body = (await response.json().catch(() => undefined)) as { data?: { id?: unknown }[] } | undefined;
  if (!Array.isArray(body?.data)) return { kind: 'unchecked', why: `${base}/models did not answer a model list` };
  const available = body.data.map((model) => String(model.id));
  const wanted: [string, string][] = [
    ['OPENAI_STT_MODEL', settings.sttModel],
    ['OPENAI_LLM_MODEL', settings.llmModel],
    ['OPENAI_TTS_MODEL', settings.ttsModel],
  ];
  const missing = wanted.filter(([, model]) => !available.includes(model)).map(([name, model]) => `${name}=${model}`);
  return missing.length > 0 ? { kind: 'missing', missing, available } : { kind: 'ok', models: wanted.map(([, model]) => model) };
}

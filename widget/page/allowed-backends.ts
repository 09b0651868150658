/**
 * Which backends the widget page may talk to. The page hands the user's Matrix OpenID token (a bearer
 * token, good for about an hour) to its backend, and trusts it for the oracle's key unless the key is
 * pinned: so the backend is not taken from the URL alone, which anyone can write, but checked against
 * an allow-list fixed when the page was built (`VITE_ALLOWED_BACKENDS`, comma-separated origins;
 * default: the page's own origin). An entry's port may be `*`, for local development only
 * (`http://127.0.0.1:*`).
 */

function originOf(url: string): URL | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `backendUrl` is on `allowList` (the build's VITE_ALLOWED_BACKENDS; empty: `pageOrigin` only). */
export function isAllowedBackend(backendUrl: string, allowList: string | undefined, pageOrigin: string): boolean {
  const backend = originOf(backendUrl);
  if (!backend || backend.username || backend.password) return false;
  const entries = (allowList ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries.length > 0 ? entries : [pageOrigin]) {
    const anyPort = /:\*$/.test(entry);
    const allowed = originOf(anyPort ? entry.replace(/:\*$/, '') : entry);
    if (!allowed) continue;
    if (allowed.protocol === backend.protocol && allowed.hostname === backend.hostname && (anyPort || allowed.port === backend.port)) return true;
  }
  return false;
}

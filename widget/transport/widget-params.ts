/**
 * The widget page's parameters, from wherever the host put them. Element adds `widgetId` and
 * `parentUrl` to the query itself and fills the URL template's `$…` variables (`$matrix_room_id`,
 * `$org.matrix.msc2873.client_theme`, …) wherever they are, fragment included; other hosts fill the
 * fragment. So each parameter is read from the fragment first, then the query, and a value that is still
 * a template variable (a host that does not know `$parentUrl` leaves it as it is) counts as absent,
 * never as a value.
 */
import { setupWords } from '../copy.ts';

export type WidgetTheme = 'light' | 'dark';

/** What identifies the widget to its host: `widgetId` and `parentUrl` always, the rest from URL templates. */
export interface WidgetParams {
  readonly widgetId: string;
  readonly parentUrl: string;
  /** From a `userId=$matrix_user_id` template, when the widget's URL has one. */
  readonly userId?: string;
  /** From a `roomId=$matrix_room_id` template, when the widget's URL has one. */
  readonly roomId?: string;
}

/** Everything the widget page needs to mount the element. */
export interface WidgetPageParams {
  readonly widget: WidgetParams & { readonly roomId: string };
  readonly backendUrl: string;
  readonly callType?: 'audio' | 'video';
  /** Element's theme (`$org.matrix.msc2873.client_theme`), when the URL carries one. */
  readonly theme?: WidgetTheme;
  /** Element's language (`$org.matrix.msc2873.client_language`), a BCP 47 tag. */
  readonly language?: string;
}

export type WidgetPageParse = { readonly ok: true; readonly params: WidgetPageParams } | { readonly ok: false; readonly problems: readonly string[] };

interface UrlParts {
  readonly search: string;
  readonly hash: string;
}

/** A URL template variable nobody filled in: `$parentUrl`, `$matrix_user_id`, `$org.matrix.msc2873.client_theme`. */
const PLACEHOLDER = /^\$[A-Za-z_][\w.]*$/;

/** The fragment's parameters: `#?a=1&b=2`, `#/?a=1` and `#a=1` all work. */
function fragmentParams(hash: string): URLSearchParams {
  return new URLSearchParams(hash.replace(/^#\/?\??/, ''));
}

/** One parameter: the fragment's, else the query's; empty or unfilled values are absent. */
export function widgetParam(location: UrlParts, name: string): string | undefined {
  for (const params of [fragmentParams(location.hash), new URLSearchParams(location.search)]) {
    const value = params.get(name)?.trim();
    if (value && !PLACEHOLDER.test(value)) return value;
  }
  return undefined;
}

function httpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Element's theme names as the widget's two schemes: `light`, `light-high-contrast` → light; `dark`,
 * `dark-custom…` → dark; a custom theme whose name says neither → undefined (follow the system).
 */
export function widgetTheme(name: string | undefined): WidgetTheme | undefined {
  if (!name) return undefined;
  if (/dark/i.test(name)) return 'dark';
  if (/light/i.test(name)) return 'light';
  return undefined;
}

/** A language tag as `lang` takes it (`en`, `en-GB`, `de`, `zh-Hans`), else undefined. */
function languageTag(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const tag = value.replace(/_/g, '-');
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

/** The widget parameters of a page's URL, or undefined when it is not a widget (no widgetId or parentUrl). */
export function widgetParamsFrom(location: UrlParts): WidgetParams | undefined {
  const widgetId = widgetParam(location, 'widgetId');
  const parentUrl = widgetParam(location, 'parentUrl');
  if (!widgetId || !parentUrl || !httpUrl(parentUrl)) return undefined;
  const userId = widgetParam(location, 'userId');
  const roomId = widgetParam(location, 'roomId');
  return { widgetId, parentUrl, ...(userId ? { userId } : {}), ...(roomId ? { roomId } : {}) };
}

/**
 * Everything the widget page reads, checked: either the parameters, or one sentence per problem that a
 * person adding the widget can act on.
 */
export function parseWidgetPage(location: UrlParts): WidgetPageParse {
  const problems: string[] = [];
  const widgetId = widgetParam(location, 'widgetId');
  const parentUrl = widgetParam(location, 'parentUrl');
  const roomId = widgetParam(location, 'roomId');
  const userId = widgetParam(location, 'userId');
  const backendUrl = widgetParam(location, 'backendUrl');
  const callType = widgetParam(location, 'callType');
  if (!widgetId || !parentUrl) {
    problems.push(setupWords.notAWidget());
  } else if (!httpUrl(parentUrl)) {
    problems.push(setupWords.badParentUrl(parentUrl));
  }
  if (!roomId) problems.push(setupWords.noRoomId());
  else if (!roomId.startsWith('!')) problems.push(setupWords.badRoomId(roomId));
  if (!backendUrl) problems.push(setupWords.noBackendUrl());
  else if (!httpUrl(backendUrl)) problems.push(setupWords.badBackendUrl(backendUrl));
  if (callType && callType !== 'audio' && callType !== 'video') problems.push(setupWords.badCallType(callType));
  if (problems.length > 0 || !widgetId || !parentUrl || !roomId || !backendUrl) return { ok: false, problems };
  const theme = widgetTheme(widgetParam(location, 'theme'));
  const language = languageTag(widgetParam(location, 'language'));
  return {
    ok: true,
    params: {
      widget: { widgetId, parentUrl, roomId, ...(userId ? { userId } : {}) },
      backendUrl: httpUrl(backendUrl)!.href.replace(/\/$/, ''),
      ...(callType ? { callType: callType as 'audio' | 'video' } : {}),
      ...(theme ? { theme } : {}),
      ...(language ? { language } : {}),
    },
  };
}

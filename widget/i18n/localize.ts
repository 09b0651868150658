/**
 * The element's languages, on `@lit/localize` in runtime mode. English is the source: its words are the
 * `msg()` defaults where they are used (copy.ts, errors.ts, the views). Every other language is one
 * catalogue module in `locales/` (one place per language), loaded only when a page asks for it, so the
 * script-tag module carries no translation it does not show.
 *
 * The active locale is page-wide (`@lit/localize` keeps one), so elements on one page share it: the last
 * one to resolve its `lang` wins. A page that mixes languages in two elements is not supported.
 */
import { configureLocalization } from '@lit/localize';
import type { LocaleModule } from '@lit/localize';

export const SOURCE_LOCALE = 'en';
/** The languages with a complete catalogue besides English. */
export const TARGET_LOCALES = ['de', 'es', 'fr'] as const;
export type Locale = typeof SOURCE_LOCALE | (typeof TARGET_LOCALES)[number];
export const LOCALES: readonly Locale[] = [SOURCE_LOCALE, ...TARGET_LOCALES];

/** One dynamic import per language (a variable import would make bundlers guess). */
const CATALOGUES: Readonly<Record<(typeof TARGET_LOCALES)[number], () => Promise<LocaleModule>>> = {
  de: () => import('./locales/de.ts'),
  es: () => import('./locales/es.ts'),
  fr: () => import('./locales/fr.ts'),
};

const { getLocale, setLocale } = configureLocalization({
  sourceLocale: SOURCE_LOCALE,
  targetLocales: TARGET_LOCALES,
  loadLocale: (locale) => CATALOGUES[locale as keyof typeof CATALOGUES](),
});

let loading: Promise<void> = Promise.resolve();

/**
 * The supported locale that best fits the first of `tags` with one: an exact match (`de`), else its
 * language (`de-AT` → `de`); English when none fits.
 */
export function matchLocale(tags: readonly (string | null | undefined)[]): Locale {
  for (const tag of tags) {
    if (!tag) continue;
    const lower = tag.toLowerCase();
    const exact = LOCALES.find((locale) => locale === lower);
    if (exact) return exact;
    const language = LOCALES.find((locale) => locale === lower.split(/[-_]/)[0]);
    if (language) return language;
  }
  return SOURCE_LOCALE;
}

/**
 * The element's locale: its own `lang` attribute, else the page's (`<html lang>`), else the browser's
 * languages in order. A `lang` that names an unsupported language falls back to the next source.
 */
export function resolveLocale(ownLang: string | null): Locale {
  const pageLang = typeof document === 'undefined' ? null : document.documentElement.lang;
  const browser = typeof navigator === 'undefined' ? [] : (navigator.languages ?? [navigator.language]);
  return matchLocale([ownLang, pageLang, ...browser]);
}

/** Switches the page's locale (loading its catalogue once); resolves when its words are in use. */
export function useLocale(locale: Locale): Promise<void> {
  if (getLocale() !== locale) loading = setLocale(locale);
  return loading;
}

/** Resolves once the last locale asked for is loaded and active. */
export function localeLoaded(): Promise<void> {
  return loading;
}

export function currentLocale(): Locale {
  return getLocale() as Locale;
}

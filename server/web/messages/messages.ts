import { be } from './be';
import { en, type MessageKey, type Messages } from './en';
import { ru } from './ru';
import { uk } from './uk';

export type { MessageKey, Messages };

/**
 * The languages of the staff pages, in the order the language switcher lists them. Adding one: a file like
 * en.ts typed `Messages`, and one line here.
 */
export const LANGUAGES: Readonly<Record<string, Messages>> = Object.freeze({ be, ru, uk, en });
export const DEFAULT_LANGUAGE = 'en';

/** Whether the staff pages have `language`: own keys only (`constructor` or `__proto__` is not a language). */
export function isStaffLanguage(language: unknown): language is string {
  return typeof language === 'string' && Object.hasOwn(LANGUAGES, language);
}

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

export function translator(language: string): Translate {
  return isStaffLanguage(language) ? translate(LANGUAGES[language]!, language) : translate(en, DEFAULT_LANGUAGE);
}

/** Looks a key up in one language's messages and fills in its `{placeholders}` (numbers through Intl). Shared by the staff and the contributors' pages. */
export function translate<K extends string>(messages: Readonly<Record<K, string>>, language: string) {
  const numbers = new Intl.NumberFormat(language);
  return (key: K, values: Record<string, string | number> = {}): string =>
    messages[key].replace(/\{(\w+)\}/g, (whole, name: string) => {
      const value = values[name];
      if (value === undefined) return whole;
      return typeof value === 'number' ? numbers.format(value) : value;
    });
}

/** The language tags of an Accept-Language header, most wanted first (q=0 and garbage dropped). */
export function acceptedLanguages(acceptLanguage: string | undefined): string[] {
  return (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = Number(params.find((p) => p.trim().startsWith('q='))?.trim().slice(2) ?? 1);
      return { tag: tag.toLowerCase(), q: Number.isFinite(q) ? q : 0 };
    })
    .filter((entry) => entry.tag && entry.q > 0)
    .sort((a, b) => b.q - a.q)
    .map((entry) => entry.tag);
}

/** The first of `wanted` tags found in `available` (`ru-RU` matches `ru`), or null. */
export function firstAvailable(wanted: string[], available: (language: string) => boolean): string | null {
  for (const tag of wanted) {
    if (available(tag)) return tag;
    const base = tag.split('-')[0]!;
    if (available(base)) return base;
  }
  return null;
}

/** Picks the first language of Accept-Language that the pages have (`ru-RU` matches `ru`). */
export function negotiateLanguage(acceptLanguage: string | undefined): string {
  return firstAvailable(acceptedLanguages(acceptLanguage), isStaffLanguage) ?? DEFAULT_LANGUAGE;
}

/** The staff pages' language: the one chosen with the switcher (its cookie) if the pages have it, else the browser's. */
export function staffLanguage(chosen: string | undefined, acceptLanguage: string | undefined): string {
  return isStaffLanguage(chosen) ? chosen : negotiateLanguage(acceptLanguage);
}

/** A submission state (`in_review`) as the page's language says it; a state these pages do not know stays as it is. */
export function statusName(t: Translate, status: string): string {
  const key = `status.${status}`;
  return Object.hasOwn(en, key) ? t(key as MessageKey) : status;
}

export function formatDateTime(language: string, date: Date): string {
  return new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(date) + ' UTC';
}

/** A time of day with seconds (UTC), for what happens within minutes: an approval's hold. */
export function formatTime(language: string, date: Date): string {
  return new Intl.DateTimeFormat(language, { timeStyle: 'medium', timeZone: 'UTC' }).format(date) + ' UTC';
}

/** A file's size for people: kB below 0.1 MB (a small file is never "0.0 MB"), MB with one decimal above. */
export function formatFileSize(language: string, bytes: number): string {
  if (bytes < 100_000) {
    return new Intl.NumberFormat(language, { style: 'unit', unit: 'kilobyte', maximumFractionDigits: 0 }).format(bytes === 0 ? 0 : Math.max(1, Math.round(bytes / 1000)));
  }
  return new Intl.NumberFormat(language, { style: 'unit', unit: 'megabyte', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(bytes / 1_000_000);
}

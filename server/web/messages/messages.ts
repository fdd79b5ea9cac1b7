import { en, type MessageKey, type Messages } from './en';

export type { MessageKey, Messages };

/** The languages of the staff pages. Adding one: a file like en.ts typed `Messages`, and one line here. */
export const LANGUAGES: Record<string, Messages> = { en };
export const DEFAULT_LANGUAGE = 'en';

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

export function translator(language: string): Translate {
  const messages = LANGUAGES[language] ?? en;
  const numbers = new Intl.NumberFormat(language);
  return (key, values = {}) =>
    messages[key].replace(/\{(\w+)\}/g, (whole, name: string) => {
      const value = values[name];
      if (value === undefined) return whole;
      return typeof value === 'number' ? numbers.format(value) : value;
    });
}

/** Picks the first language of Accept-Language that the pages have (`ru-RU` matches `ru`). */
export function negotiateLanguage(acceptLanguage: string | undefined): string {
  const wanted = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = Number(params.find((p) => p.trim().startsWith('q='))?.trim().slice(2) ?? 1);
      return { tag: tag.toLowerCase(), q: Number.isFinite(q) ? q : 0 };
    })
    .filter((entry) => entry.tag && entry.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of wanted) {
    if (LANGUAGES[tag]) return tag;
    const base = tag.split('-')[0]!;
    if (LANGUAGES[base]) return base;
  }
  return DEFAULT_LANGUAGE;
}

export function formatDateTime(language: string, date: Date): string {
  return new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(date) + ' UTC';
}

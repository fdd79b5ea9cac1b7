import { be } from './be';
import { en, type ContribMessageKey, type ContribMessages } from './en';
import { ru } from './ru';
import { uk } from './uk';
import { acceptedLanguages, firstAvailable, translate } from '../../messages/messages';

export type { ContribMessageKey, ContribMessages };

/**
 * The languages of the contributors' pages. Adding one: a file like en.ts typed `ContribMessages`, and one
 * line here. A campaign offers the languages it lists that have a file here.
 */
export const CONTRIB_LANGUAGES: Record<string, ContribMessages> = { be, ru, uk, en };

export type ContribTranslate = (key: ContribMessageKey, values?: Record<string, string | number>) => string;

export function contribTranslator(language: string): ContribTranslate {
  return translate(Object.hasOwn(CONTRIB_LANGUAGES, language) ? CONTRIB_LANGUAGES[language]! : en, language);
}

/** The language of a contributors' page: `?lang=` if offered, else the first offered one Accept-Language asks for, else the campaign's first. */
export function pickLanguage(offered: string[], requested: unknown, acceptLanguage: string | undefined): string {
  const usable = offered.filter((language) => Object.hasOwn(CONTRIB_LANGUAGES, language));
  if (usable.length === 0) return 'en';
  if (typeof requested === 'string' && usable.includes(requested)) return requested;
  return firstAvailable(acceptedLanguages(acceptLanguage), (tag) => usable.includes(tag)) ?? usable[0]!;
}

/**
 * The suggested post text of a released clip, per language: the contributor's message (or the title when
 * there is none), the campaign's hashtags, and a credit line that names the organisation only when the
 * contributor agreed to be credited (consent-scopes.ts). Pure.
 */

const CREDIT: Record<string, string> = {
  en: 'Video: {organisation}',
  be: 'Відэа: {organisation}',
  ru: 'Видео: {organisation}',
  uk: 'Відео: {organisation}',
  pl: 'Wideo: {organisation}',
  de: 'Video: {organisation}',
  fr: 'Vidéo : {organisation}',
};

export interface PostTextInput {
  message: string;
  title: string;
  organisation: string;
  credit: boolean;
  hashtags: readonly string[];
}

export function postText(input: PostTextInput, language: string): string {
  const body = input.message.trim() || input.title.trim();
  const hashtags = input.hashtags.map((tag) => (tag.startsWith('#') ? tag : `#${tag}`)).join(' ');
  const base = language.split('-')[0]!;
  const template = Object.hasOwn(CREDIT, base) ? CREDIT[base]! : CREDIT.en!;
  // A function, not a string: in a replacement string `$&`, `$\`` and `$'` in an organisation's name are patterns.
  const organisation = input.organisation.trim();
  const credit = input.credit && organisation ? template.replace('{organisation}', () => organisation) : '';
  return [body, hashtags, credit].filter(Boolean).join('\n\n');
}

/** One post text per language of the campaign. */
export function postTexts(input: PostTextInput, languages: readonly string[]): Record<string, string> {
  return Object.fromEntries(languages.map((language) => [language, postText(input, language)]));
}

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { en } from '../../server/web/messages/en';
import { LANGUAGES, negotiateLanguage, staffLanguage, statusName, translator } from '../../server/web/messages/messages';
import { SUBMISSION_STATES } from '../../shared/submissions/submission-states';

/** What is wrong with a translation's placeholders compared with English's: each `{name}` as often, and no other brace. */
function placeholderProblems(english: string, translated: string): string[] {
  const placeholders = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();
  const braces = (text: string) => text.replace(/\{\w+\}/g, '').replace(/[^{}]/g, '');
  const problems: string[] = [];
  if (placeholders(english).join() !== placeholders(translated).join()) problems.push(`placeholders ${placeholders(translated).join(' ') || 'none'} instead of ${placeholders(english).join(' ') || 'none'}`);
  if (braces(english) !== braces(translated)) problems.push(`stray braces "${braces(translated)}" instead of "${braces(english)}"`);
  return problems;
}

describe('staff page messages', () => {
  const dir = join(__dirname, '..', '..', 'server', 'web', 'messages');
  const languageFiles = readdirSync(dir).filter((file) => /^[a-z]{2,3}(-[A-Za-z]+)?\.ts$/.test(file));

  test('every language file in the folder is registered, and the pages have Belarusian, Russian, Ukrainian and English', () => {
    expect(languageFiles.map((file) => file.replace(/\.ts$/, '')).sort()).toEqual(Object.keys(LANGUAGES).sort());
    expect(Object.keys(LANGUAGES).sort()).toEqual(['be', 'en', 'ru', 'uk']);
  });

  test.each(Object.entries(LANGUAGES))('when language %s is loaded, then it has every key English has, each non-empty, with the same placeholders', (_lang, messages) => {
    for (const key of Object.keys(en) as Array<keyof typeof en>) {
      expect(typeof messages[key]).toBe('string');
      expect(messages[key].trim()).not.toBe('');
      expect([key, placeholderProblems(en[key], messages[key])]).toEqual([key, []]);
    }
    expect(Object.keys(messages).sort()).toEqual(Object.keys(en).sort());
  });

  test('when a translation renames, drops, adds or breaks a placeholder, then the check names it', () => {
    const english = 'Logged in as {email} ({role}).';
    expect(placeholderProblems(english, 'Вы вошли как {email} ({role}).')).toEqual([]);
    expect(placeholderProblems(english, 'Вы вошли как {emial} ({role}).')).toHaveLength(1);
    expect(placeholderProblems(english, 'Вы вошли как {email}.')).toHaveLength(1);
    expect(placeholderProblems(english, 'Вы вошли как {email} ({role}) {role}.')).toHaveLength(1);
    expect(placeholderProblems(english, 'Вы вошли как {email} ({ role}).').length).toBeGreaterThan(0);
    expect(placeholderProblems(english, 'Вы вошли как {email} ({роль}).').length).toBeGreaterThan(0);
  });

  test('when a language is not English, then most of its texts are its own (not English copied over)', () => {
    for (const [lang, messages] of Object.entries(LANGUAGES)) {
      if (lang === 'en') continue;
      const same = (Object.keys(en) as Array<keyof typeof en>).filter((key) => messages[key] === en[key] && /[a-z]{3}/.test(en[key]));
      // Left as in English on purpose: names and formats that are the same in every language.
      expect([lang, same.filter((key) => !['campaigns.json', 'captions.file'].includes(key))]).toEqual([lang, []]);
    }
  });

  test('when the source uses a message key, then it exists', () => {
    const web = join(__dirname, '..', '..', 'server', 'web');
    const sources = (readdirSync(web, { recursive: true }) as string[]).filter((file) => /\.tsx?$/.test(file));
    const used = sources.flatMap((file) => [...readFileSync(join(web, file), 'utf8').matchAll(/(?<![\w.])t\('([a-z]+\.[A-Za-z_.]+)'/g)].map((m) => m[1]!));
    expect(used.length).toBeGreaterThan(10);
    for (const key of used) expect([key, key in en]).toEqual([key, true]);
  });

  test('placeholders are filled, numbers formatted through Intl in the page language, unknown ones left visible', () => {
    const t = translator('en');
    expect(t('audit.intact', { count: 12345 })).toBe('The chain is intact: 12,345 entries verified.');
    expect(t('home.signedInAs', { email: 'a@b.org' })).toBe('Logged in as a@b.org ({role}).');
    expect(translator('be')('audit.intact', { count: 12345 })).toBe(`Ланцужок цэлы: праверана запісаў — ${new Intl.NumberFormat('be').format(12345)}.`);
    expect(translator('uk')('queue.votes', { count: 1 })).toBe('схвалень: 1 з 2');
  });

  test('Accept-Language picks a language the pages have, else English; a prototype name is no language', () => {
    expect(negotiateLanguage('ru-RU,ru;q=0.9')).toBe('ru');
    expect(negotiateLanguage('be')).toBe('be');
    expect(negotiateLanguage('de-DE,de;q=0.9,uk;q=0.5')).toBe('uk');
    expect(negotiateLanguage('en-GB,en;q=0.8')).toBe('en');
    expect(negotiateLanguage(undefined)).toBe('en');
    expect(negotiateLanguage('garbage;;q=x')).toBe('en');
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect([name, negotiateLanguage(name)]).toEqual([name, 'en']);
      expect(translator(name)('login.title')).toBe('Staff login');
    }
  });

  test('the language chosen on the page (its cookie) wins over the browser, unless the pages do not have it', () => {
    expect(staffLanguage('uk', 'be')).toBe('uk');
    expect(staffLanguage(undefined, 'be')).toBe('be');
    expect(staffLanguage('de', 'ru')).toBe('ru');
    expect(staffLanguage('constructor', 'be')).toBe('be');
    expect(staffLanguage('__proto__', undefined)).toBe('en');
  });

  test('every submission state has a name in every language, so no page shows an id like in_review', () => {
    for (const state of SUBMISSION_STATES) expect([state, Object.hasOwn(en, `status.${state}`)]).toEqual([state, true]);
    for (const lang of Object.keys(LANGUAGES).filter((l) => l !== 'en')) {
      for (const state of SUBMISSION_STATES) expect([lang, state, statusName(translator(lang), state)]).not.toEqual([lang, state, state]);
    }
    expect(statusName(translator('be'), 'in_review')).toBe('чакае праверкі');
    expect(statusName(translator('ru'), 'constructor')).toBe('constructor');
  });
});

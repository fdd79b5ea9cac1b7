import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { en } from '../../server/web/messages/en';
import { LANGUAGES, negotiateLanguage, translator } from '../../server/web/messages/messages';

describe('staff page messages', () => {
  const dir = join(__dirname, '..', '..', 'server', 'web', 'messages');
  const languageFiles = readdirSync(dir).filter((file) => /^[a-z]{2,3}(-[A-Za-z]+)?\.ts$/.test(file));

  test('every language file in the folder is registered', () => {
    expect(languageFiles.map((file) => file.replace(/\.ts$/, '')).sort()).toEqual(Object.keys(LANGUAGES).sort());
  });

  test.each(Object.entries(LANGUAGES))('when language %s is loaded, then it has every key English has, each non-empty, with the same placeholders', (_lang, messages) => {
    for (const key of Object.keys(en) as Array<keyof typeof en>) {
      expect(typeof messages[key]).toBe('string');
      expect(messages[key].trim()).not.toBe('');
      const placeholders = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();
      expect([key, placeholders(messages[key])]).toEqual([key, placeholders(en[key])]);
    }
    expect(Object.keys(messages).sort()).toEqual(Object.keys(en).sort());
  });

  test('when the source uses a message key, then it exists', () => {
    const web = join(__dirname, '..', '..', 'server', 'web');
    const sources = (readdirSync(web, { recursive: true }) as string[]).filter((file) => /\.tsx?$/.test(file));
    const used = sources.flatMap((file) => [...readFileSync(join(web, file), 'utf8').matchAll(/(?<![\w.])t\('([a-z]+\.[A-Za-z_.]+)'/g)].map((m) => m[1]!));
    expect(used.length).toBeGreaterThan(10);
    for (const key of used) expect([key, key in en]).toEqual([key, true]);
  });

  test('placeholders are filled, numbers formatted through Intl, unknown ones left visible', () => {
    const t = translator('en');
    expect(t('audit.intact', { count: 12345 })).toBe('The chain is intact: 12,345 entries verified.');
    expect(t('home.signedInAs', { email: 'a@b.org' })).toBe('Logged in as a@b.org ({role}).');
  });

  test('Accept-Language picks a language the pages have, else English', () => {
    expect(negotiateLanguage('ru-RU,ru;q=0.9')).toBe('en');
    expect(negotiateLanguage('en-GB,en;q=0.8')).toBe('en');
    expect(negotiateLanguage(undefined)).toBe('en');
    expect(negotiateLanguage('garbage;;q=x')).toBe('en');
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { en } from '../../server/web/contrib/messages/en';
import { CONTRIB_LANGUAGES, contribTranslator, pickLanguage } from '../../server/web/contrib/messages/contrib-messages';

describe("contributors' page messages", () => {
  const dir = join(__dirname, '..', '..', 'server', 'web', 'contrib', 'messages');
  const languageFiles = readdirSync(dir).filter((file) => /^[a-z]{2,3}(-[A-Za-z]+)?\.ts$/.test(file));

  test('every language file in the folder is registered, and Belarusian, Russian, Ukrainian and English are there', () => {
    expect(languageFiles.map((file) => file.replace(/\.ts$/, '')).sort()).toEqual(Object.keys(CONTRIB_LANGUAGES).sort());
    expect(Object.keys(CONTRIB_LANGUAGES)).toEqual(expect.arrayContaining(['be', 'ru', 'uk', 'en']));
  });

  test.each(Object.entries(CONTRIB_LANGUAGES))('when language %s is loaded, then it has every key English has, each non-empty, with the same placeholders', (_lang, messages) => {
    const placeholders = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();
    for (const key of Object.keys(en) as Array<keyof typeof en>) {
      expect([key, typeof messages[key]]).toEqual([key, 'string']);
      expect(messages[key].trim()).not.toBe('');
      expect([key, placeholders(messages[key])]).toEqual([key, placeholders(en[key])]);
    }
    expect(Object.keys(messages).sort()).toEqual(Object.keys(en).sort());
  });

  test('when the pages use a message key, then it exists', () => {
    const sources = (readdirSync(join(dir, '..'), { recursive: true }) as string[]).filter((file) => /\.tsx?$/.test(file));
    const used = sources.flatMap((file) =>
      [...readFileSync(join(dir, '..', file), 'utf8').matchAll(/(?<![\w.])m\('([a-z]+\.[A-Za-z_.]+)'/g)].map((match) => match[1]!),
    );
    expect(used.length).toBeGreaterThan(20);
    for (const key of used) expect([key, key in en]).toEqual([key, true]);
  });

  test('placeholders are filled and numbers formatted for the language', () => {
    expect(contribTranslator('be')('note.weight', { kb: 12345 })).toBe(`Гэтая старонка важыць ${new Intl.NumberFormat('be').format(12345)} КБ і нічога не загружае з іншых сайтаў.`);
    expect(new Intl.NumberFormat('be').format(12345)).not.toBe('12345');
    expect(contribTranslator('en')('form.progress', { sent: '1 MB' })).toBe('1 MB of {total} sent');
  });

  test.each([
    [['be', 'ru', 'uk', 'en'], undefined, 'be-BY,be;q=0.9,en;q=0.5', 'be'],
    [['be', 'ru', 'uk', 'en'], 'uk', 'be-BY', 'uk'],
    [['be', 'ru', 'uk', 'en'], 'xx', 'ru-RU', 'ru'],
    [['be', 'ru'], undefined, 'de-DE,uk;q=0.8', 'be'],
    [['en', 'fr'], undefined, 'fr', 'en'],
    [['be', 'ru', 'uk', 'en'], ['uk'], undefined, 'be'],
  ])('offered %j, ?lang=%j, Accept-Language %j → %s', (offered, requested, accept, expected) => {
    expect(pickLanguage(offered, requested, accept)).toBe(expected);
  });
});

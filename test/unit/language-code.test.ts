import { CAPTION_LANGUAGE } from '../../shared/captions/caption-versions';
import { parseFields } from '../../server/upload/submission-fields';

const fields = (language: string) => ({
  campaign: 'demo',
  organisation: 'Free Trade Union of Belarus',
  country: 'BY',
  language,
  title: 'Solidarity',
  consent: JSON.stringify({ version: 1, language, statements: ['record'] }),
});

/** The upload takes only the languages the release can name captions with: one expression for both. */
describe('a contributor\'s language at upload', () => {
  test.each(['be', 'pt-br', 'pt-BR', 'sr-Latn-RS', 'zh-hant-tw', 'de-ch-1996-x1', 'abc-abcdefgh-abcdefgh-abcde'])(
    'when the language is "%s", then the upload takes it and the release can name its captions',
    (language) => {
      expect(parseFields(fields(language)).language).toBe(language);
      expect(CAPTION_LANGUAGE.test(language.toLowerCase())).toBe(true);
    },
  );

  test.each([
    ['six parts', 'de-ch-1996-x1-ab-cd'],
    ['28 characters', 'abc-abcdefgh-abcdefgh-abcdef'],
    ['a long private use tail', `en${'-abcdefgh'.repeat(5)}`],
    ['not a code', 'en_GB'],
  ])('when the language has %s ("%s"), then the upload refuses it, saying the limits, for the language and the consent', (_what, language) => {
    try {
      parseFields(fields(language));
      throw new Error('accepted');
    } catch (error) {
      expect(error).toMatchObject({ code: 'invalid_fields', status: 400 });
      const errors = (error as { details: { errors: Array<{ field: string; message: string }> } }).details.errors;
      expect(errors.map((e) => e.field).sort()).toEqual(['consent.language', 'language']);
      for (const e of errors) expect(e.message).toContain('at most five parts and 27 characters');
    }
    expect(CAPTION_LANGUAGE.test(language.toLowerCase())).toBe(false);
  });
});

import { newCampaignSchema } from '../../server/services/campaign.service';
import { postText } from '../../server/services/post-text';
import type { Campaign } from '../../shared/models/campaign.model';
import { consentScope } from '../../shared/submissions/consent-scopes';

const campaign: Pick<Campaign, 'consentVersions'> = {
  consentVersions: [
    { version: 1, publishedAt: new Date(), texts: [{ language: 'en', statements: [{ id: 'publish', text: 'p', grants: ['social'] }] }] },
    {
      version: 2,
      publishedAt: new Date(),
      texts: [
        {
          language: 'en',
          statements: [
            { id: 'record', text: 'r' },
            { id: 'publish', text: 'p', grants: ['social', 'web'] },
            { id: 'events', text: 'e', grants: ['events'], optional: true },
            { id: 'press', text: 'x', grants: ['press'], optional: true },
            { id: 'credit', text: 'c', grants: ['credit'], optional: true },
          ],
        },
      ],
    },
  ],
};

describe('consentScope', () => {
  test.each([
    [2, ['record', 'publish'], ['social', 'web'], false],
    [2, ['record', 'publish', 'press'], ['social', 'web', 'press'], false],
    [2, ['record', 'publish', 'events', 'press', 'credit'], ['social', 'web', 'events', 'press'], true],
    [2, ['record', 'credit'], [], true],
    [2, ['record'], [], false],
    [1, ['publish'], ['social'], false], // the version the contributor saw decides, not the latest
    [3, ['publish'], [], false], // an unknown version grants nothing
  ] as const)('when version %i statements %j are agreed, then the uses are %j and credit %s', (version, statements, uses, credit) => {
    expect(consentScope(campaign, { version, statements: [...statements] })).toEqual({ uses, credit });
  });
});

describe('postText', () => {
  const input = { message: 'Freedom for political prisoners!', title: 'Solidarity', organisation: 'Free Trade Union', hashtags: ['#Solidarity', 'TradeUnions'] };
  test('when the contributor agreed to be credited, then the organisation is named in the language of the text', () => {
    expect(postText({ ...input, credit: true }, 'be')).toBe('Freedom for political prisoners!\n\n#Solidarity #TradeUnions\n\nВідэа: Free Trade Union');
    expect(postText({ ...input, credit: true }, 'xx')).toBe('Freedom for political prisoners!\n\n#Solidarity #TradeUnions\n\nVideo: Free Trade Union');
  });
  test('when they did not, then the organisation appears nowhere', () => {
    expect(postText({ ...input, credit: false }, 'en')).toBe('Freedom for political prisoners!\n\n#Solidarity #TradeUnions');
  });
  test('when there is no message and no hashtag, then the title stands alone', () => {
    expect(postText({ ...input, message: '  ', hashtags: [], credit: false }, 'en')).toBe('Solidarity');
  });
});

describe('campaign consent grants', () => {
  const base = { slug: 'c1', name: 'C', languages: ['en', 'be'] };
  const text = (language: string, grants: string[]) => ({ language, statements: [{ id: 'publish', text: 't', grants }] });
  test('when a statement grants an unknown use, then the campaign is refused', () => {
    expect(newCampaignSchema.safeParse({ ...base, consent: [text('en', ['tv']), text('be', ['tv'])] }).success).toBe(false);
  });
  test('when the languages grant different uses for one statement, then the campaign is refused', () => {
    expect(newCampaignSchema.safeParse({ ...base, consent: [text('en', ['social']), text('be', ['press'])] }).success).toBe(false);
    expect(newCampaignSchema.safeParse({ ...base, consent: [text('en', ['social']), text('be', ['social'])] }).success).toBe(true);
  });
});

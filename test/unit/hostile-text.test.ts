import { parseCampaignInput, newCampaignSchema } from '../../server/services/campaign.service';
import { campaignUpdateSchema } from '../../server/services/campaign-admin.service';
import { parseFields } from '../../server/upload/submission-fields';
import { parseSubtitles } from '../../shared/subtitles/subtitles';
import { cleanText, isolate, stripBidiControls, stripXmlForbidden } from '../../shared/text/hostile-text';
import { toSrt, toWebVtt } from '../../shared/subtitles/subtitles';
import demoCampaign from '../../infra/local/demo-campaign.json';

// Every character XML 1.0 forbids or discourages that a form, an API body or a subtitle file can carry.
const FORBIDDEN = '\uFFFE\uFFFF\u0001\u001B\uFDD0\u{1FFFE}\u{10FFFF}\uD800';

describe('text is cleaned where it comes in', () => {
  test('when text carries characters XML forbids, then they are dropped and the rest kept (emoji, tabs, newlines too)', () => {
    expect(stripXmlForbidden(`a${FORBIDDEN}b\t😀\nc`)).toBe('ab\t😀\nc');
    expect(cleanText(`a${FORBIDDEN}b`)).toBe('ab');
  });

  test('when a contributor sends them in a title, a message or an organisation, then they are not stored', () => {
    const input = parseFields({
      campaign: 'demo', organisation: `Union${FORBIDDEN}`, country: 'BY', language: 'be', title: `Title${FORBIDDEN}`, message: `Message${FORBIDDEN}\nsecond line`,
      consent: JSON.stringify({ version: 1, language: 'be', statements: ['record', 'publish', 'risk'] }),
    });
    expect([input.title, input.message, input.organisation]).toEqual(['Title', 'Message\nsecond line', 'Union']);
  });

  test('when an admin gives them in a campaign name, title, prompt, consent text or rejection reason, then they are not stored', () => {
    const campaign = parseCampaignInput(newCampaignSchema, {
      ...demoCampaign,
      slug: 'xml',
      name: `Name${FORBIDDEN}`,
      titles: { be: `Title${FORBIDDEN}`, ru: 'T', uk: 'T', en: 'T' },
      prompts: { ...demoCampaign.prompts, en: `Prompt${FORBIDDEN}` },
      rejectionReasons: [{ id: 'off_topic', texts: { be: `Reason${FORBIDDEN}`, ru: 'R', uk: 'R', en: 'R' } }],
      consent: demoCampaign.consent.map((c) => ({ ...c, statements: c.statements.map((s) => ({ ...s, text: `${s.text}${FORBIDDEN}` })) })),
    });
    expect([campaign.name, campaign.titles.be, campaign.prompts.en]).toEqual(['Name', 'Title', 'Prompt']);
    expect(campaign.rejectionReasons[0]!.texts.be).toBe('Reason');
    expect(campaign.consent.flatMap((c) => c.statements.map((s) => s.text)).join('')).not.toMatch(/[\uFFFE\uFFFF\u0001]/);
    expect(parseCampaignInput(campaignUpdateSchema, { name: `Renamed${FORBIDDEN}` }).name).toBe('Renamed');
    // A name that is nothing but such characters is empty, and refused as empty.
    expect(() => parseCampaignInput(campaignUpdateSchema, { name: FORBIDDEN })).toThrow();
  });

  test('when a subtitle file carries them, then the cues do not', () => {
    const cues = parseSubtitles(`1\n00:00:01,000 --> 00:00:02,000\nHello${FORBIDDEN} world\n`);
    expect(cues.map((c) => c.text)).toEqual(['Hello world']);
  });

  test('when text carries bidirectional embeddings, overrides or isolates, then stored text drops them and keeps the marks (LRM, RLM, ALM)', () => {
    const hostile = 'a\u202Ab\u202Bc\u202Cd\u202De\u202Ef\u2066g\u2067h\u2068i\u2069j';
    expect(stripBidiControls(hostile)).toBe('abcdefghij');
    expect(cleanText(`x\u200Ey\u200Fz\u061C${hostile}`)).toBe('x\u200Ey\u200Fz\u061Cabcdefghij');
    expect(parseCampaignInput(campaignUpdateSchema, { name: 'Name \u202Egnitset', prompts: { en: 'Say \u202Ehello' } })).toMatchObject({ name: 'Name gnitset', prompts: { en: 'Say hello' } });
    const cues = parseSubtitles('1\n00:00:01,000 --> 00:00:02,000\n\u202EHello\u2067 world\n');
    expect(cues.map((c) => c.text)).toEqual(['Hello world']);
    expect(toSrt(cues) + toWebVtt(cues)).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
    expect(isolate('x')).toBe('\u2068x\u2069');
  });
});

import { campaignUpdateSchema, consentVersionSchema } from '../../server/services/campaign-admin.service';
import { newCampaignSchema, parseCampaignInput } from '../../server/services/campaign.service';
import demoCampaign from '../../infra/local/demo-campaign.json';

/** Campaign JSON (the admin API, the page's JSON fields, the CLI's files) with `__proto__` keys: refused by name, never dropped quietly. */
describe('campaign input with prototype keys', () => {
  const consent = JSON.stringify(demoCampaign.consent);
  test.each([
    ['an update, at the top', campaignUpdateSchema, '{"__proto__": {"status": "open"}}', '__proto__'],
    ['an update, in the titles', campaignUpdateSchema, '{"titles": {"__proto__": "x"}}', 'titles.__proto__'],
    ['an update, beside a real title', campaignUpdateSchema, '{"titles": {"en": "x", "__proto__": {"polluted": true}}}', 'titles.__proto__'],
    ['a new campaign, in a rejection reason', newCampaignSchema, JSON.stringify({ ...demoCampaign, slug: 'x1' }).replace('"rejectionReasons":[', '"rejectionReasons":[{"id":"a","texts":{"__proto__":"x"}},'), 'rejectionReasons.0.texts.__proto__'],
    ['a consent version, in a statement', consentVersionSchema, `{"consent": ${consent.replace('"id":', '"__proto__": {}, "id":')}}`, 'consent.0.statements.0.__proto__'],
  ])('when %s has one, then 400 invalid_campaign names where', (_what, schema, json, field) => {
    expect(() => parseCampaignInput(schema, JSON.parse(json))).toThrow(
      expect.objectContaining({ code: 'invalid_campaign', status: 400, details: { errors: [{ field, message: expect.stringMatching(/not allowed/) }] } }),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('when the same input has no such key, then it is accepted (the check names only what it must)', () => {
    expect(parseCampaignInput(campaignUpdateSchema, JSON.parse('{"titles": {"en": "x"}}'))).toEqual({ titles: { en: 'x' } });
  });
});

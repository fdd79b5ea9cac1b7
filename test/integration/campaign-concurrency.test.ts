import { publishConsentVersion, setCampaignLogo, updateCampaign } from '../../server/services/campaign-admin.service';
import { LOCK_STALE_MS } from '../../server/services/campaign-lock';
import { createUnionLink, revokeUnionLink } from '../../server/services/campaign.service';
import type { Campaign } from '../../shared/models/campaign.model';
import demoCampaign from '../../infra/local/demo-campaign.json';
import { makePng } from '../helpers/images';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { waitUntil } from '../helpers/wait-until';

/**
 * Admins changing one campaign at once, against the real database (FerretDB here, which applies an update
 * as a read then a write of the whole document): every change must survive, none may overwrite another.
 */
describe('changes to one campaign at the same time', () => {
  let app: TestApp;
  const actor = { id: null, email: 'test' };
  const now = new Date('2026-05-01T10:00:00Z');

  beforeAll(async () => {
    app = await startTestApp({});
  });

  afterAll(async () => {
    await app.close();
  });

  const load = async (slug: string) => (await app.services.db.campaigns.findOne({ slug }).lean<Campaign>())!;
  const locks = () => app.services.db.connection.db!.collection<{ _id: string; at: Date }>('campaign_locks');

  test('when two links are revoked, a link is made, consent is published, fields and the logo are changed all at once, then every change is kept', async () => {
    for (let round = 0; round < 3; round += 1) {
      const slug = `together-${round}`;
      await seedDemoCampaign(app.deps, { slug });
      const db = app.services.db;
      const a = await createUnionLink(db, slug, { organisation: 'A', country: 'BY' }, now, actor);
      const b = await createUnionLink(db, slug, { organisation: 'B', country: 'BY' }, now, actor);
      const [, , c, version] = await Promise.all([
        revokeUnionLink(db, slug, a.id, now, actor),
        revokeUnionLink(db, slug, b.id, now, actor),
        createUnionLink(db, slug, { organisation: 'C', country: 'UA' }, now, actor),
        publishConsentVersion(db, slug, { consent: demoCampaign.consent }, now, actor),
        updateCampaign(db, slug, { titles: { en: 'Together' } }, now, actor),
        setCampaignLogo(app.services, slug, makePng(8, 8), now, actor),
      ]);
      const campaign = await load(slug);
      const links = Object.fromEntries(campaign.unionLinks!.map((link) => [link.organisation, link.revokedAt !== null]));
      expect([round, links]).toEqual([round, { A: true, B: true, C: false }]);
      expect(campaign.unionLinks!.find((link) => link.organisation === 'C')!.id).toBe(c.id);
      expect([round, campaign.consentVersions.map((v) => v.version)]).toEqual([round, [1, version.version]]);
      expect([round, campaign.titles, campaign.branding?.logo?.width]).toEqual([round, [{ language: 'en', text: 'Together' }], 8]);
    }
    expect(await locks().countDocuments()).toBe(0);
  });

  test('when a lock is held, then a change waits for it; when one is left by a dead process, then it is taken over once stale', async () => {
    await seedDemoCampaign(app.deps, { slug: 'locked' });
    await locks().insertOne({ _id: 'locked', at: new Date() });
    // The database connections the change takes, seen through the driver's pool events: a change that is not
    // held up makes far fewer than 40 round trips; one waiting for the lock makes two an attempt (the insert, a
    // look at the lock held), every 15 ms. So after 40 it is trying the lock, not merely slow to start.
    const client = app.services.db.connection.getClient();
    let checkouts = 0;
    const counted = () => void (checkouts += 1);
    client.on('connectionCheckedOut', counted);
    let done = false;
    const waiting = updateCampaign(app.services.db, 'locked', { titles: { en: 'After the lock' } }, now, actor).then(() => (done = true));
    try {
      await waitUntil(() => checkouts >= 40 || done, { timeoutMs: 4_000, intervalMs: 5, what: 'the change to try the held lock twenty times' });
    } finally {
      client.off('connectionCheckedOut', counted);
    }
    expect(done).toBe(false);
    await locks().deleteOne({ _id: 'locked' });
    await waiting;
    expect((await load('locked')).titles).toEqual([{ language: 'en', text: 'After the lock' }]);

    await locks().insertOne({ _id: 'locked', at: new Date(Date.now() - LOCK_STALE_MS - 1000) });
    await updateCampaign(app.services.db, 'locked', { titles: { en: 'Stale lock taken over' } }, now, actor);
    expect((await load('locked')).titles).toEqual([{ language: 'en', text: 'Stale lock taken over' }]);
    expect(await locks().countDocuments({ _id: 'locked' })).toBe(0);
  });
});

import { Types } from 'mongoose';
import { approveReport, claimReport, maskReportPhoto, rejectReport, setPhotoExcluded, withdrawReportByStaff } from '../../server/services/report-review.service';
import { corners } from '../helpers/photos';
import { imageProblems } from '../helpers/reports';
import { withdrawReportById } from '../../server/services/report.service';
import { runCli } from '../../server/cli/cli';
import { REPORT_TALLIES, tallyId } from '../../shared/reports/report-tally';
import type { Moderator } from '../../server/services/review.service';
import { PHOTO_CHECKS, type Report } from '../../shared/reports/report.model';
import { positive, readTally } from '../../shared/reports/report-tally';
import { phonePhoto, quadrantsRaw } from '../helpers/photos';
import { ACTION_DAYS, reportCall, reportFields, seedReportCampaign, sendReport, storedPhotoProblems } from '../helpers/reports';
import { makeStaff, testClock } from '../helpers/staff-client';
import { startTestApp, type TestApp } from '../helpers/test-env';

/**
 * Moderating action reports and the live tally (issue 18), against the real services: the checklist per photo,
 * a photo left out, two moderators for a sensitive report, reasons, the audit; and the tally exact under
 * concurrent approvals, double approvals and withdrawals racing them.
 */
describe('moderating action reports and counting them', () => {
  let app: TestApp;
  const clock = testClock();
  const slug = 'reports-tally';
  let campaignId: string;
  let ana: Moderator;
  let ben: Moderator;
  const deps = () => ({ db: app.services.db, storage: app.services.storage, logger: app.deps.logger, now: clock.now, claimSeconds: 600 });
  const clear = (report: Pick<Report, 'photos'>, present: string[] = []) =>
    Object.fromEntries(report.photos.flatMap((p) => PHOTO_CHECKS.map((c) => [`${p.id}-${c}`, present.includes(c) && p.slot === 0 ? 'present' : 'clear'])));
  const load = async (id: string) => (await app.services.db.reports.findById(id).lean<Report>())!;

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    campaignId = (await seedReportCampaign(app, slug))._id.toHexString();
    const moderator = async (email: string): Promise<Moderator> => {
      const made = await makeStaff(app, clock.now, 'moderator', { email, campaigns: [slug] });
      return { id: made.user._id.toHexString(), email, role: 'moderator', campaigns: [slug] };
    };
    ana = await moderator('ana-tally@example.org');
    ben = await moderator('ben-tally@example.org');
  });

  afterAll(async () => {
    await app.close();
  });

  test('when a moderator leaves a photo out and approves, then the report is counted with two photos, and the photo left out is deleted', async () => {
    const raw = quadrantsRaw(200, 150);
    const sent = await sendReport(app, reportFields(slug, { country: 'PL', date: ACTION_DAYS[1], startTime: '09:15' }), await Promise.all([6, 1, 3].map((o) => phonePhoto(raw, o))));
    let report = await load(sent.id);
    await claimReport(deps(), ana, sent.id);
    await expect(claimReport(deps(), ben, sent.id)).rejects.toMatchObject({ code: 'claimed_by_other' });
    await setPhotoExcluded(deps(), ana, sent.id, report.photos[2]!.id, true);
    await expect(approveReport(deps(), ana, sent.id, {})).rejects.toMatchObject({ code: 'checklist_incomplete' });
    report = await load(sent.id);
    expect(await approveReport(deps(), ana, sent.id, clear(report))).toEqual({ kind: 'approved' });
    report = await load(sent.id);
    expect(report).toMatchObject({ status: 'approved', talliedAs: { date: ACTION_DAYS[1], kind: 'embassy_protest', country: 'PL', hour: '09', photos: 2 } });
    expect(report.photos).toHaveLength(2);
    const stored = await storedPhotoProblems(app, sent.id);
    expect(stored.keys.sort()).toEqual(report.photos.map((p) => p.key).sort());
    expect(stored.problems).toEqual([]);
    const day = await readTally(app.services.db.connection, campaignId, ACTION_DAYS[1]!);
    expect(day).toMatchObject({ actions: 1, photos: 2, kinds: { embassy_protest: 1 }, countries: { PL: 1 }, hours: { '09': 1 } });
    expect((await reportCall(app, sent, 'status')).body).toMatchObject({ status: 'approved' });
    const actions = (await app.services.db.auditEntries.find({ 'target.kind': 'report', 'target.id': sent.id }).lean()).map((e) => e.action);
    expect(actions).toEqual(['report_claimed', 'report_photo_excluded', 'report_approved']);
  });

  test('when a photo shows a face, then a second moderator must approve, and a rejection gives the campaign\'s reason', async () => {
    const raw = quadrantsRaw(200, 150);
    const sent = await sendReport(app, reportFields(slug, { country: 'DE' }), [await phonePhoto(raw, 1)]);
    const report = await load(sent.id);
    expect(await approveReport(deps(), ana, sent.id, clear(report, ['faces']))).toEqual({ kind: 'vote', approvals: 1, needed: 2 });
    await expect(approveReport(deps(), ana, sent.id, clear(report, ['faces']))).rejects.toMatchObject({ code: 'already_approved' });
    expect((await load(sent.id)).status).toBe('in_review');
    expect(await approveReport(deps(), ben, sent.id, clear(report, ['faces']))).toEqual({ kind: 'approved' });

    const other = await sendReport(app, reportFields(slug, { country: 'DE' }), [await phonePhoto(raw, 1)]);
    const reasons = (await app.services.db.campaigns.findById(campaignId).lean())!.rejectionReasons;
    await rejectReport(deps(), ana, other.id, { template: reasons[0]!.id, note: '' });
    expect(await load(other.id)).toMatchObject({ status: 'rejected', photos: [] });
    expect((await reportCall(app, other, 'status')).body).toMatchObject({ status: 'rejected', rejection: { code: reasons[0]!.id } });
    expect(await app.services.storage.list(`reports/${other.id}/`)).toEqual([]);
  });

  test('when 24 reports are approved at once (each twice), and half are withdrawn while that happens, then the tally counts exactly those approved and not withdrawn', async () => {
    const before = await readTally(app.services.db.connection, campaignId, ACTION_DAYS[0]!);
    const countries = ['BY', 'UA', 'LT', 'GE'];
    const sent = await Promise.all(Array.from({ length: 24 }, (_, i) => sendReport(app, reportFields(slug, { country: countries[i % 4], kind: i % 3 === 0 ? 'letter' : 'meeting', startTime: null }))));
    const settle = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? 'error');
    const outcomes = await Promise.all(
      sent.flatMap((r, i) => [
        settle(approveReport(deps(), ana, r.id, {})),
        settle(approveReport(deps(), ben, r.id, {})),
        ...(i % 2 === 0 ? [settle(withdrawReportById(deps(), new Types.ObjectId(r.id), { id: null, email: null }, 'contributor'))] : []),
      ]),
    );
    expect(outcomes.filter((o) => !['ok', 'report_state_conflict', 'claimed_by_other'].includes(o as string))).toEqual([]);
    const reports = await Promise.all(sent.map((r) => load(r.id)));
    const counted = reports.filter((r) => r.status === 'approved');
    expect(reports.filter((r) => r.status !== 'approved' && r.status !== 'withdrawn')).toEqual([]);
    expect(reports.filter((r, i) => i % 2 === 0 && r.status !== 'withdrawn')).toEqual([]);
    const after = await readTally(app.services.db.connection, campaignId, ACTION_DAYS[0]!);
    expect(after.actions - before.actions).toBe(counted.length);
    expect(counted.length).toBe(12);
    const delta = (key: string) => (after.countries[key] ?? 0) - (before.countries[key] ?? 0);
    expect(countries.map(delta)).toEqual(countries.map((c) => counted.filter((r) => r.country === c).length));
    expect((after.kinds.letter ?? 0) - (before.kinds.letter ?? 0)).toBe(counted.filter((r) => r.kind === 'letter').length);
    expect((after.hours.unknown ?? 0) - (before.hours.unknown ?? 0)).toBe(12);
    // No count below zero anywhere, and the campaign-wide tally moved as the day's did.
    expect(Object.values(after.countries).every((n) => n >= 0)).toBe(true);
    const all = await readTally(app.services.db.connection, campaignId, 'all');
    expect(positive(all.countries).length).toBeGreaterThanOrEqual(4);

    // Withdrawing an approved report takes it out of the count.
    const one = counted[0]!;
    await withdrawReportById(deps(), one._id, { id: null, email: null }, 'contributor');
    expect((await readTally(app.services.db.connection, campaignId, ACTION_DAYS[0]!)).actions).toBe(after.actions - 1);
  });

  test('when a moderator withdraws an approved report at the union\'s request, then it leaves the count, and a moderator of another campaign cannot', async () => {
    const sent = await sendReport(app, reportFields(slug, { country: 'MD', date: ACTION_DAYS[1] }));
    expect(await approveReport(deps(), ana, sent.id, {})).toEqual({ kind: 'approved' });
    const before = await readTally(app.services.db.connection, campaignId, ACTION_DAYS[1]!);
    const stranger: Moderator = { ...ben, id: '0'.repeat(24), campaigns: ['another-campaign'] };
    await expect(withdrawReportByStaff(deps(), stranger, sent.id, { confirm: true, reason: 'x' })).rejects.toMatchObject({ code: 'report_not_found' });
    await expect(withdrawReportByStaff(deps(), ben, sent.id, { confirm: false, reason: 'asked' })).rejects.toMatchObject({ code: 'withdraw_unconfirmed' });
    await withdrawReportByStaff(deps(), ben, sent.id, { confirm: true, reason: 'the union asked by phone' });
    const after = await readTally(app.services.db.connection, campaignId, ACTION_DAYS[1]!);
    expect([after.actions, after.countries.MD ?? 0]).toEqual([before.actions - 1, (before.countries.MD ?? 0) - 1]);
    const entry = await app.services.db.auditEntries.findOne({ action: 'report_withdrawn', 'target.id': sent.id }).lean();
    expect(entry).toMatchObject({ actor: { email: ben.email }, details: { from: 'approved', by: 'staff' } });
  });

  test('when a tally drifted (a process died between a move and its count), then the CLI recounts it from the approved reports', async () => {
    const right = await readTally(app.services.db.connection, campaignId, 'all');
    const rightDay = await readTally(app.services.db.connection, campaignId, ACTION_DAYS[0]!);
    const tallies = app.services.db.connection.db!.collection<{ _id: string }>(REPORT_TALLIES);
    await tallies.updateOne({ _id: tallyId(campaignId, 'all') }, { $set: { actions: 999, 'countries.BY': 500, gallery: [] } });
    const lines: string[] = [];
    expect(await runCli(['reports', 'rebuild-tallies', slug], app.services, (line) => lines.push(line), { config: app.config })).toBe(0);
    expect(lines.join('\n')).toContain(`from ${right.actions} approved reports`);
    const rebuilt = await readTally(app.services.db.connection, campaignId, 'all');
    // (A live tally keeps a 0 where a country's last report left; a recount has no entry: the same counts.)
    const shape = (t: typeof right) => ({ actions: t.actions, photos: t.photos, kinds: positive(t.kinds), countries: positive(t.countries), hours: positive(t.hours) });
    expect(shape(rebuilt)).toEqual(shape(right));
    expect(new Set(rebuilt.gallery.map((g) => g.photoId))).toEqual(new Set(right.gallery.map((g) => g.photoId)));
    expect((await readTally(app.services.db.connection, campaignId, ACTION_DAYS[0]!)).actions).toBe(rightDay.actions);
    expect(await app.services.db.auditEntries.findOne({ action: 'report_tallies_rebuilt' }).lean()).toMatchObject({ target: { kind: 'campaign', id: slug } });
  });

  test('when a moderator paints a box over the top-left quarter of a photo, then the stored photo is black there, still clean and upright elsewhere, and the old one is gone', async () => {
    const sent = await sendReport(app, reportFields(slug, { country: 'GE' }), [await phonePhoto(quadrantsRaw(200, 150), 6)]);
    const before = await load(sent.id);
    await maskReportPhoto(deps(), ana, sent.id, before.photos[0]!.id, { x: 0, y: 0, w: 50, h: 50 });
    const after = await load(sent.id);
    expect(after.photos[0]!.id).not.toBe(before.photos[0]!.id);
    const keys = await app.services.storage.list(`reports/${sent.id}/`);
    expect(keys).toEqual([after.photos[0]!.key]);
    const chunks: Buffer[] = [];
    for await (const chunk of await app.services.storage.download(after.photos[0]!.key)) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    const c = await corners(bytes);
    expect(c.topLeft.every((v) => v < 20)).toBe(true);
    expect((await imageProblems(bytes, false))).toEqual([]);
    // The other quarters where they were: still upright.
    expect([c.topRight[1]! > 150 && c.topRight[0]! < 90, c.bottomLeft[2]! > 150 && c.bottomLeft[0]! < 90, c.bottomRight[0]! > 200 && c.bottomRight[1]! > 200]).toEqual([true, true, true]);
    await expect(maskReportPhoto(deps(), ana, sent.id, after.photos[0]!.id, { x: 100, y: 100, w: 10, h: 10 })).rejects.toMatchObject({ code: 'mask_empty' });
    expect(await app.services.db.auditEntries.findOne({ action: 'report_photo_masked', 'target.id': sent.id }).lean()).toBeTruthy();
  });
});

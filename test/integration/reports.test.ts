import { createUnionLink } from '../../server/services/campaign.service';
import { updateCampaign } from '../../server/services/campaign-admin.service';
import { CLI_ACTOR } from '../../server/services/campaign.service';
import type { Report } from '../../shared/reports/report.model';
import { RECEIVING_EXPIRY_MS, sweepAbandonedReports } from '../../server/services/report.service';
import { heicFile, phonePhoto, quadrantsRaw, zipWith } from '../helpers/photos';
import { createReportViaApi, putPhoto, reportCall, reportFields, reportRecordProblems, seedReportCampaign, sendReport, storedPhotoProblems } from '../helpers/reports';
import { startTestApp, type TestApp } from '../helpers/test-env';

/**
 * Action reports from the contributors' side (issue 18), over HTTP against the real services: the fields,
 * one photo per request (cleaned before it is stored), submit, status, withdraw; what the campaign checks.
 */
describe('action reports sent by unions', () => {
  let app: TestApp;
  const slug = 'reports-api';
  let photos: Buffer[];

  beforeAll(async () => {
    app = await startTestApp();
    await seedReportCampaign(app, slug);
    const raw = quadrantsRaw(320, 240);
    photos = await Promise.all([phonePhoto(raw, 6), phonePhoto(raw, 3), phonePhoto(raw, 8)]);
  });

  afterAll(async () => {
    await app.close();
  });

  test('when a union sends a report with three phone photos (one sent twice), then it is in review with three clean, upright photos', async () => {
    const created = await createReportViaApi(app, reportFields(slug, { photos: 3 }));
    expect(created.status).toBe(202);
    const report = { id: String(created.body.id), token: created.token };
    // A bad connection: the answer to photo 1 was lost, the page sends it again.
    for (const [slot, photo] of photos.entries()) expect((await putPhoto(app, report, slot, photo)).status).toBe(201);
    expect((await putPhoto(app, report, 1, Buffer.concat([photos[1]!, zipWith('where.txt', 'a hidden file')]))).status).toBe(201);
    expect((await reportCall(app, report, 'status')).body).toMatchObject({ status: 'receiving', photos: 3, photoSlots: [0, 1, 2] });
    const submitted = await reportCall(app, report, 'submit');
    expect(submitted.body).toMatchObject({ status: 'in_review', photos: 3 });
    // Twice changes nothing.
    expect((await reportCall(app, report, 'submit')).body).toMatchObject({ status: 'in_review' });
    const stored = await storedPhotoProblems(app, report.id);
    expect(stored.keys).toHaveLength(3);
    expect(stored.problems).toEqual([]);
    expect(await app.services.db.reportReview.exists({ _id: report.id })).toBeTruthy();
    // Photos can no longer be added once sent.
    expect((await putPhoto(app, report, 3, photos[0]!)).body).toMatchObject({ code: 'report_sent' });
  });

  test('when the same form is sent again (its answer was lost), then it is the same report', async () => {
    const first = await createReportViaApi(app, reportFields(slug));
    const again = await createReportViaApi(app, reportFields(slug), first.token);
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
  });

  test('when a photo is HEIC, not a picture, or the token is wrong, then it is refused with its own code', async () => {
    const created = await createReportViaApi(app, reportFields(slug, { photos: 2 }));
    const report = { id: String(created.body.id), token: created.token };
    expect(await putPhoto(app, report, 0, await heicFile())).toMatchObject({ status: 415, body: { code: 'photo_heic' } });
    expect(await putPhoto(app, report, 0, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toMatchObject({ status: 415, body: { code: 'photo_unsupported_type' } });
    expect(await putPhoto(app, report, 10, photos[0]!)).toMatchObject({ status: 400, body: { code: 'invalid_photo_slot' } });
    expect(await putPhoto(app, { id: report.id, token: 'x'.repeat(43) }, 0, photos[0]!)).toMatchObject({ status: 404, body: { code: 'report_not_found' } });
    expect(await app.services.storage.list(`reports/${report.id}/`)).toEqual([]);
  });

  test('when the date, kind or place is wrong, then the report is refused saying what to fix', async () => {
    expect((await createReportViaApi(app, reportFields(slug, { date: '2027-03-29' }))).body).toMatchObject({ code: 'not_an_action_day' });
    expect((await createReportViaApi(app, reportFields(slug, { kind: 'riot' }))).body).toMatchObject({ code: 'unknown_action_kind' });
    expect((await createReportViaApi(app, reportFields(slug, { country: 'Lithuania' }))).body).toMatchObject({ code: 'invalid_report', fields: ['country'] });
    expect((await createReportViaApi(app, reportFields(slug, { consent: { version: 1, language: 'en', statements: ['record'] } }))).body).toMatchObject({ code: 'consent_incomplete' });
    expect((await createReportViaApi(app, reportFields(slug, { website: 'spam' }))).body).toMatchObject({ code: 'rejected' });
    // An exact place is not asked for, and an unknown field is refused rather than stored.
    expect((await createReportViaApi(app, reportFields(slug, { latitude: 53.9 }))).body).toMatchObject({ code: 'invalid_report' });
    await seedReportCampaign(app, 'reports-no-days');
    await updateCampaign(app.deps.db, 'reports-no-days', { actionDays: [] }, new Date(), CLI_ACTOR);
    expect((await createReportViaApi(app, reportFields('reports-no-days'))).body).toMatchObject({ code: 'no_action_days' });
  });

  test('when a report comes through a union link, then the link\'s organisation and country are stored', async () => {
    const link = await createUnionLink(app.deps.db, slug, { organisation: 'Union of the Link', country: 'de' }, new Date());
    const report = await sendReport(app, reportFields(slug, { link: link.token, organisation: 'Someone else', country: 'FR' }));
    const stored = await app.services.db.reports.findById(report.id).lean<Report>();
    expect(stored).toMatchObject({ organisation: 'Union of the Link', country: 'DE', linkId: link.id });
  });

  test('when its sender withdraws a report, then its photos are deleted, its words cleared and it leaves the queue', async () => {
    const report = await sendReport(app, reportFields(slug, { city: 'Unique-City-Withdrawn' }), photos.slice(0, 2));
    expect((await reportCall(app, report, 'withdraw')).body).toMatchObject({ status: 'withdrawn', photos: 0 });
    expect((await reportCall(app, report, 'withdraw')).body).toMatchObject({ status: 'withdrawn' });
    expect(await app.services.storage.list(`reports/${report.id}/`)).toEqual([]);
    expect(await app.services.db.reportReview.exists({ _id: report.id })).toBeNull();
    expect(reportRecordProblems(await app.services.db.reports.findById(report.id).lean<Report & Record<string, unknown>>())).toEqual([]);
    const audit = await app.services.db.auditEntries.find({ 'target.kind': 'report', 'target.id': report.id }).lean();
    expect(audit.map((e) => e.action)).toEqual(['report_withdrawn']);
    expect(JSON.stringify(audit)).not.toContain('Unique-City-Withdrawn');
  });

  test('when a report is left half-sent for a day, then the sweep removes its photos and its record, and nothing else', async () => {
    const created = await createReportViaApi(app, reportFields(slug, { photos: 2, city: 'Half-Sent-City' }));
    const report = { id: String(created.body.id), token: created.token };
    await putPhoto(app, report, 0, photos[0]!);
    const sent = await sendReport(app, reportFields(slug));
    const deps = { db: app.services.db, storage: app.services.storage, logger: app.deps.logger, now: () => new Date() };
    expect(await sweepAbandonedReports(deps)).toBe(0);
    const later = { ...deps, now: () => new Date(Date.now() + RECEIVING_EXPIRY_MS + 60_000) };
    expect(await sweepAbandonedReports(later)).toBeGreaterThanOrEqual(1);
    expect(await app.services.db.reports.findById(report.id).lean()).toBeNull();
    expect(await app.services.storage.list(`reports/${report.id}/`)).toEqual([]);
    expect((await reportCall(app, sent, 'status')).body).toMatchObject({ status: 'in_review' });
  });
});

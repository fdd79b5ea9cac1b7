import { approveReport } from '../../server/services/report-review.service';
import type { Moderator } from '../../server/services/review.service';
import { csvCell } from '../../server/services/report-dashboard.service';
import type { Report } from '../../shared/reports/report.model';
import { phonePhoto, quadrantsRaw } from '../helpers/photos';
import { ACTION_DAYS, clearChecklist, imageProblems, reportCall, reportFields, seedReportCampaign, sendReport } from '../helpers/reports';
import { loginAs, makeStaff, testClock, type StaffClient } from '../helpers/staff-client';
import { startTestApp, type TestApp } from '../helpers/test-env';

/**
 * The press office's dashboard, gallery and exports, and the public summary (issue 18), over HTTP against the
 * real services: what is counted (approved reports only, by day, country, kind and hour), photos served clean
 * and upright, credit lines and uses by consent, a formula in a report's text never reaching a spreadsheet as one.
 */
describe('the action reports dashboard, exports and public summary', () => {
  let app: TestApp;
  const clock = testClock();
  const slug = 'reports-dash';
  let social: StaffClient;
  let me: Moderator;
  const deps = () => ({ db: app.services.db, storage: app.services.storage, logger: app.deps.logger, now: clock.now, claimSeconds: 600 });
  const sent: Array<{ id: string; token: string }> = [];

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedReportCampaign(app, slug);
    await seedReportCampaign(app, 'reports-dash-other');
    social = await loginAs(app, clock, await makeStaff(app, clock.now, 'social', { campaigns: [slug] }));
    const mod = await makeStaff(app, clock.now, 'moderator', { campaigns: [slug] });
    me = { id: mod.user._id.toHexString(), email: mod.email, role: 'moderator', campaigns: [slug] };
    const raw = quadrantsRaw(240, 180);
    const photo = (o: number) => phonePhoto(raw, o);
    const credit = { version: 1, language: 'en', statements: ['record', 'publish', 'risk', 'credit'] };
    const noCredit = { version: 1, language: 'en', statements: ['record', 'publish', 'risk'] };
    // Three approved on day 1 (two countries), one approved on day 2, one left in review.
    sent.push(await sendReport(app, reportFields(slug, { country: 'BY', organisation: 'Credited Union', consent: credit, startTime: '10:05' }), [await photo(6), await photo(1), await photo(3)]));
    sent.push(await sendReport(app, reportFields(slug, { country: 'BY', organisation: 'Uncredited Union', kind: 'letter', text: '=HYPERLINK("http://evil.example","x")', consent: noCredit, startTime: '10:40' }), [await photo(8)]));
    sent.push(await sendReport(app, reportFields(slug, { country: 'UA', kind: 'meeting', startTime: null })));
    sent.push(await sendReport(app, reportFields(slug, { country: 'LT', date: ACTION_DAYS[1] })));
    sent.push(await sendReport(app, reportFields(slug, { country: 'PL', city: 'Still-In-Review-City' })));
    for (const report of sent.slice(0, 4)) {
      const stored = (await app.services.db.reports.findById(report.id).lean<Report>())!;
      expect(await approveReport(deps(), me, report.id, clearChecklist(stored.photos.map((p) => p.id)))).toEqual({ kind: 'approved' });
    }
  });

  afterAll(async () => {
    await app.close();
  });

  test('when reports are approved, then the dashboard counts them by day, country, kind and hour within the request', async () => {
    const day1 = await social.get(`/staff/reports/${slug}?day=${ACTION_DAYS[0]}`);
    expect(day1.status).toBe(200);
    expect(day1.html).toMatch(/data-testid="tally-actions">3</);
    expect(day1.html).toMatch(/data-testid="tally-countries">2</);
    expect(day1.html).toContain('data-country="BY" data-count="2"');
    expect(day1.html).toContain('data-country="UA" data-count="1"');
    expect(day1.html).not.toContain('data-country="PL" data-count="1"');
    expect(day1.html).toMatch(/data-key="10"[\s\S]*?<span>2<\/span>/);
    const all = await social.get(`/staff/reports/${slug}`);
    expect(all.html).toMatch(/data-testid="tally-actions">4</);
    expect(all.html).toMatch(/data-testid="tally-countries">3</);
    // Another campaign's dashboard does not exist for this social team.
    expect((await social.get('/staff/reports/reports-dash-other')).status).toBe(404);
  });

  test('when the gallery serves approved photos, then each is clean and upright, with a credit line only where consent allows', async () => {
    const page = await social.get(`/staff/reports/${slug}`);
    const sources = [...page.html.matchAll(/<img src="(\/staff\/reports\/[^"]+)"/g)].map((m) => m[1]!);
    expect(sources).toHaveLength(4);
    const cookie = [...social.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    for (const src of sources) {
      const response = await fetch(`${app.baseUrl}${src}?download=1`, { headers: { cookie } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="?action-\d{4}-\d\d-\d\d-(by|ua|lt)-[0-9a-f]{6}-\d\.jpg"?$/);
      expect(await imageProblems(Buffer.from(await response.arrayBuffer()))).toEqual([]);
    }
    expect(page.html).toContain('Credited Union');
    expect(page.html).not.toContain('Uncredited Union');
  });

  test('when the press office exports, then CSV and JSON hold the approved reports, organisations only where named by consent, no formula', async () => {
    const csv = await social.get(`/staff/reports/${slug}/export.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.html.replace(/^\ufeff/, '').trim().split('\r\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('id,date,start_time,kind,kind_name,country,city,participants,credit,partners,text,photos,uses,approved_at');
    expect(csv.html).toContain(csvCell('=HYPERLINK("http://evil.example","x")'));
    expect(csv.html).toContain(`"'=HYPERLINK`);
    expect(csv.html).toContain('"Credited Union"');
    expect(csv.html).not.toContain('Uncredited Union');
    expect(csv.html).not.toContain('Still-In-Review-City');
    const json = await social.get(`/staff/reports/${slug}/export.json`);
    const body = JSON.parse(json.html) as { reports: Array<{ country: string; photos: unknown[] }> };
    expect(body.reports.map((r) => r.country).sort()).toEqual(['BY', 'BY', 'LT', 'UA']);
    const audit = await app.services.db.auditEntries.find({ action: 'reports_exported' }).lean();
    expect(audit.map((a) => a.details)).toEqual([expect.objectContaining({ format: 'csv', reports: 4 }), expect.objectContaining({ format: 'json', reports: 4 })]);
  });

  test('when anyone opens the public summary, then it shows the numbers by country and only photos whose consent allows the web', async () => {
    const page = await fetch(`${app.baseUrl}/p/${slug}/actions?lang=en`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy') ?? '').toContain("default-src 'self'");
    expect(html).toMatch(/data-testid="summary-actions">4</);
    expect(html).toMatch(/data-testid="summary-countries">3</);
    for (const secret of ['Uncredited Union', 'Vilnius', 'stood outside the embassy', 'Still-In-Review-City']) expect(html).not.toContain(secret);
    expect(html).toContain('Credited Union');
    const photos = [...html.matchAll(/<img src="(\/p\/[^"]+)"/g)].map((m) => m[1]!);
    // The credited report's three photos; the "Uncredited" report's consent grants social and web too, so four.
    expect(photos).toHaveLength(4);
    for (const src of photos) {
      const response = await fetch(`${app.baseUrl}${src}`);
      expect(await imageProblems(Buffer.from(await response.arrayBuffer()))).toEqual([]);
    }
    // A photo of a report in review, or of another campaign, is not there.
    const inReview = (await app.services.db.reports.findById(sent[4]!.id).lean<Report>())!;
    expect((await fetch(`${app.baseUrl}/p/${slug}/actions/photos/${inReview._id.toHexString()}/${'0'.repeat(16)}`)).status).toBe(404);
    const day2 = await (await fetch(`${app.baseUrl}/p/${slug}/actions?lang=be&day=${ACTION_DAYS[1]}`)).text();
    expect(day2).toMatch(/data-testid="summary-actions">1</);
  });

  test('when an approved report is withdrawn, then the dashboard, the gallery and the public summary drop it', async () => {
    await reportCall(app, sent[0]!, 'withdraw');
    const all = await social.get(`/staff/reports/${slug}`);
    expect(all.html).toMatch(/data-testid="tally-actions">3</);
    expect(all.html).not.toContain('Credited Union');
    const html = await (await fetch(`${app.baseUrl}/p/${slug}/actions?lang=en`)).text();
    expect(html).toMatch(/data-testid="summary-actions">3</);
    expect([...html.matchAll(/<img src="(\/p\/[^"]+)"/g)]).toHaveLength(1);
  });
});

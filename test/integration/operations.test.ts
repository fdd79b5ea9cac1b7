import { STAFF_ROLES, type StaffRole } from '../../shared/models/staff-user.model';
import { reject } from '../../shared/submissions/moderation';
import { smallMp4 } from '../helpers/fixtures';
import { postMultipart } from '../helpers/multipart';
import { clipInReview } from '../helpers/review-fixtures';
import { loginAs, makeStaff, testClock, type StaffClient } from '../helpers/staff-client';
import { demoConsent, seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

const TOKEN = 'a-scraper-token-of-at-least-32-characters';

/** The admins' operations pages: the job queue dashboard and the Prometheus metrics, behind the admin role. */
describe('operations for admins', () => {
  let app: TestApp;
  const clock = testClock();
  const clients = {} as Record<StaffRole, StaffClient>;

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', METRICS_BEARER_TOKEN: TOKEN }, clock.now);
    await seedDemoCampaign(app.deps);
    for (const role of STAFF_ROLES) clients[role] = await loginAs(app, clock, await makeStaff(app, clock.now, role));
  });

  afterAll(async () => {
    await app.close();
  });

  const paths = ['/staff/admin/queues/', '/staff/admin/queues/api/queues', '/staff/admin/metrics'];

  test('when the dashboard or the metrics are asked for without a session or by a moderator or social-team member, then they are refused', async () => {
    for (const path of paths) {
      const anonymous = await fetch(app.baseUrl + path, { redirect: 'manual', headers: { accept: 'application/json' } });
      // To the login page, which leads back to the page asked for.
      expect([path, anonymous.status, anonymous.headers.get('location')]).toEqual([path, 303, `/staff/login?next=${encodeURIComponent(path)}`]);
      for (const role of ['moderator', 'social'] as const) {
        const answer = await clients[role].get(path, { accept: 'application/json' });
        expect([path, role, answer.status]).toEqual([path, role, 403]);
      }
    }
    // The dashboard is read-only: its API refuses to change jobs even for an admin.
    await clients.admin.get('/staff/admin/queues/');
    const retry = await clients.admin.request('PUT', '/staff/admin/queues/api/queues/submissions/retry/failed', undefined, { accept: 'application/json' });
    expect(retry.status).toBeGreaterThanOrEqual(400);
  });

  test('when an admin opens the dashboard, then bull-board shows the submissions queue and the webhooks queue', async () => {
    const page = await clients.admin.get('/staff/admin/queues/');
    expect(page.status).toBe(200);
    expect(page.html).toContain('__UI_CONFIG__');
    const api = await clients.admin.get('/staff/admin/queues/api/queues');
    expect(api.status).toBe(200);
    expect((JSON.parse(api.html) as { queues: { name: string; readOnlyMode: boolean }[] }).queues).toEqual([
      expect.objectContaining({ name: 'submissions', readOnlyMode: true }),
      expect.objectContaining({ name: 'webhooks', readOnlyMode: true }),
    ]);
  });

  test('when clips are uploaded, then the metrics count uploads, bytes, states, jobs and the review queue', async () => {
    const video = await smallMp4();
    const fields = { campaign: 'demo', organisation: 'Union', country: 'BY', language: 'be', title: 'Салідарнасць', consent: demoConsent('be'), protection: 'true' };
    const upload = await postMultipart(`${app.baseUrl}/api/submissions`, fields, [{ field: 'video', filename: 'clip.mp4', contentType: 'video/mp4', content: video }]);
    expect(upload.status).toBe(202);
    // The contributor's request for protection is recorded (it makes the clip sensitive once in review).
    expect((await app.services.db.submissions.findById(upload.json.id).lean())!.protectionRequested).toBe(true);
    const first = await clipInReview(app);
    await clipInReview(app);
    const text = (await clients.admin.get('/staff/admin/metrics')).html;
    expect(text).toMatch(/^solidarity_uploads_total 1$/m);
    expect(text).toMatch(new RegExp(`^solidarity_upload_bytes_total ${video.length}$`, 'm'));
    expect(text).toMatch(/^solidarity_review_queue_clips 2$/m);
    expect(text).toMatch(/^solidarity_submissions\{state="in_review"\} 2$/m);
    expect(text).toMatch(/^solidarity_jobs\{state="waiting"\} \d+$/m);

    // Database-wide figures are read at most once a minute.
    await reject(app.services.db.submissions, first.id, { by: 'm', reason: 'no', template: 'off_topic' });
    expect((await clients.admin.get('/staff/admin/metrics')).html).not.toMatch(/^solidarity_rejections\{code="moderator_rejected"\}/m);
    clock.advance(61_000);
    const later = (await clients.admin.get('/staff/admin/metrics')).html;
    expect(later).toMatch(/^solidarity_rejections\{code="moderator_rejected"\} 1$/m);
    expect(later).toMatch(/^solidarity_review_queue_clips 1$/m);

    // A scraper with the token reads the same; with a wrong one, or none, it is refused.
    const scraped = await fetch(`${app.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/^solidarity_review_queue_clips 1$/m);
    const refused: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${TOKEN}x` }, { cookie: `staff=${clients.admin.session()}` }];
    for (const headers of refused) expect((await fetch(`${app.baseUrl}/metrics`, { headers })).status).toBe(401);
  });
});

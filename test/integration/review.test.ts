import { originalKey } from '../../shared/storage/keys';
import type { AuditEntry } from '../../shared/models/audit-entry.model';
import type { Submission } from '../../shared/submissions/submission.model';
import { CHECKLIST } from '../../server/services/review.service';
import { loginAs, makeStaff, testClock, type StaffClient, type TestStaff } from '../helpers/staff-client';
import { clipInReview } from '../helpers/review-fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { waitUntil } from '../helpers/wait-until';

const ALL_CLEAR = Object.fromEntries(CHECKLIST.map((item) => [item, 'clear']));
const json = { accept: 'application/json' };

/** The moderators' routes, through HTTP, on the real services: claims, decisions, sensitive clips, media, bulk, refusals. */
describe('reviewing clips', () => {
  let app: TestApp;
  const clock = testClock();
  let ana: StaffClient;
  let boris: StaffClient;
  let anaStaff: TestStaff;
  let limited: StaffClient;
  const db = () => app.services.db;
  const load = async (id: string) => (await db().submissions.findById(id).lean<Submission>())!;
  const problem = (html: string) => JSON.parse(html) as { code: string };

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedDemoCampaign(app.deps);
    await seedDemoCampaign(app.deps, { slug: 'quick', checklistRequired: false } as never);
    anaStaff = await makeStaff(app, clock.now, 'moderator', { email: 'ana@example.org' });
    ana = await loginAs(app, clock, anaStaff);
    boris = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { email: 'boris@example.org' }));
    limited = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { email: 'lena@example.org', campaigns: ['quick'] }));
  });

  afterAll(async () => {
    await app.close();
  });

  async function status(id: string, token: string) {
    const response = await fetch(`${app.baseUrl}/api/submissions/${id}/status`, { headers: { authorization: `Bearer ${token}` } });
    return (await response.json()) as { status: string; rejection: { code: string; reason: string; template?: string } | null };
  }

  async function post(client: StaffClient, path: string, form: Record<string, string> = {}) {
    await client.get('/staff/queue');
    return client.post(path, form, json);
  }

  test('when a moderator claims a clip, then a second one sees who has it and can neither claim nor decide; once the claim expires, the second can take it', async () => {
    const { id } = await clipInReview(app);
    expect((await post(ana, `/staff/review/${id}/claim`)).status).toBe(303);
    const page = await boris.get(`/staff/review/${id}`);
    expect(page.html).toContain('ana@example.org is reviewing this clip');
    expect(page.html).not.toContain(`/staff/review/${id}/approve`);
    const queue = await boris.get('/staff/queue');
    expect(queue.html).toContain('being reviewed by ana@example.org');

    const claim = await post(boris, `/staff/review/${id}/claim`);
    expect([claim.status, problem(claim.html).code]).toEqual([409, 'claimed_by_other']);
    const approve = await post(boris, `/staff/review/${id}/approve`, ALL_CLEAR);
    expect([approve.status, problem(approve.html).code]).toEqual([409, 'claimed_by_other']);
    const reject = await post(boris, `/staff/review/${id}/reject`, { template: 'off_topic' });
    expect([reject.status, problem(reject.html).code]).toEqual([409, 'claimed_by_other']);
    expect((await load(id)).status).toBe('in_review');

    clock.advance(app.config.review.claimSeconds * 1000 + 1000);
    expect((await post(boris, `/staff/review/${id}/claim`)).status).toBe(303);
    expect((await boris.get(`/staff/review/${id}`)).html).toContain('You are reviewing this clip');
    const late = await post(ana, `/staff/review/${id}/approve`, ALL_CLEAR);
    expect([late.status, problem(late.html).code]).toEqual([409, 'claimed_by_other']);
  });

  test('when the checklist is incomplete, then approval is refused; complete and all clear, then the clip is approved and audited', async () => {
    const { id } = await clipInReview(app);
    await post(ana, `/staff/review/${id}/claim`);
    for (const missing of CHECKLIST) {
      const form = { ...ALL_CLEAR } as Record<string, string>;
      delete form[missing];
      const answer = await post(ana, `/staff/review/${id}/approve`, form);
      expect([missing, answer.status, problem(answer.html).code]).toEqual([missing, 400, 'checklist_incomplete']);
    }
    const answer = await post(ana, `/staff/review/${id}/approve`, ALL_CLEAR);
    expect(answer.status).toBe(303);
    expect((await load(id)).status).toBe('approved');
    expect(await db().reviewQueue.countDocuments({ _id: id })).toBe(0);
    const audit = await db().auditEntries.find({ 'target.id': id }).lean<AuditEntry[]>();
    expect(audit.map((a) => [a.action, a.actor.email])).toEqual([['claim', 'ana@example.org'], ['approve', 'ana@example.org']]);
  });

  test.each([
    ['the contributor asked for protection', { protection: true }, ALL_CLEAR],
    ['a checklist answer is "present" (faces)', {}, { ...ALL_CLEAR, faces: 'present' }],
    ['a checklist answer is "present" (plates)', {}, { ...ALL_CLEAR, plates: 'present' }],
  ])('when %s, then the clip needs two different moderators: the first approval is a vote, the same moderator cannot vote twice', async (_label, options, checklist) => {
    const { id } = await clipInReview(app, options);
    // A protected clip: each approver also confirms they watched its protected preview.
    const confirmed: Record<string, string> = 'protection' in options ? { protectedChecked: 'yes' } : {};
    await post(ana, `/staff/review/${id}/claim`);
    expect((await post(ana, `/staff/review/${id}/approve`, { ...checklist, ...confirmed })).location).toContain('done=vote');
    expect((await load(id)).status).toBe('in_review');
    expect((await db().reviewQueue.findById(id).lean())!).toMatchObject({ sensitive: true, approvals: [{ email: 'ana@example.org' }] });
    // The first moderator's claim was given back; voting again is refused.
    const again = await post(ana, `/staff/review/${id}/approve`, { ...ALL_CLEAR, ...confirmed });
    expect([again.status, problem(again.html).code]).toEqual([409, 'already_approved']);
    expect((await boris.get('/staff/queue')).html).toContain('1 of 2 approvals');

    await post(boris, `/staff/review/${id}/claim`);
    expect((await boris.get(`/staff/review/${id}`)).html).toContain('Approved so far by: ana@example.org');
    // Even an all-clear checklist from the second moderator: the clip stays sensitive.
    expect((await post(boris, `/staff/review/${id}/approve`, { ...ALL_CLEAR, ...confirmed })).location).toContain('done=approved');
    expect((await load(id)).status).toBe('approved');
    const actions = (await db().auditEntries.find({ 'target.id': id, action: 'approve' }).lean<AuditEntry[]>()).map((a) => [a.actor.email, a.details.approvals]);
    expect(actions).toEqual([['ana@example.org', 1], ['boris@example.org', 2]]);
  });

  test.each([
    ['be', 'Відэа не адпавядае тэме кампаніі'],
    ['ru', 'Видео не соответствует теме кампании'],
    ['uk', 'Відео не відповідає темі кампанії'],
    ['en', "The clip is not about the campaign's subject"],
  ])('when a %s clip is rejected with a template and a note, then the status endpoint shows the reason in that language', async (language, expected) => {
    const { id, statusToken } = await clipInReview(app, { language });
    await post(ana, `/staff/review/${id}/claim`);
    expect((await post(ana, `/staff/review/${id}/reject`, { template: 'off_topic', note: 'Try again!' })).status).toBe(303);
    const seen = await status(id, statusToken);
    expect(seen.status).toBe('rejected');
    expect(seen.rejection!.reason).toContain(expected);
    expect(seen.rejection!.reason).toMatch(/\n\nTry again!$/);
    expect((await db().auditEntries.findOne({ 'target.id': id, action: 'reject' }).lean<AuditEntry>())!.details).toMatchObject({ template: 'off_topic', note: true });
  });

  test('when a rejection has an unknown template or no reason at all, then it is refused and the clip stays in review', async () => {
    const { id } = await clipInReview(app);
    await post(ana, `/staff/review/${id}/claim`);
    expect(problem((await post(ana, `/staff/review/${id}/reject`, { template: 'nope' })).html).code).toBe('reason_unknown');
    expect(problem((await post(ana, `/staff/review/${id}/reject`, { template: '', note: '   ' })).html).code).toBe('reason_required');
    expect((await load(id)).status).toBe('in_review');
  });

  test('when the preview is requested with a range, then those bytes come (206); the original download is audited', async () => {
    const { id } = await clipInReview(app);
    const whole = await ana.request('GET', `/staff/review/${id}/media/preview`);
    expect([whole.status, whole.headers.get('accept-ranges'), whole.headers.get('content-type')]).toEqual([200, 'bytes', 'video/mp4']);
    const size = Number(whole.headers.get('content-length'));
    const part = await fetch(`${app.baseUrl}/staff/review/${id}/media/preview`, { headers: { cookie: `staff=${ana.session()}`, range: 'bytes=100-199' } });
    expect([part.status, part.headers.get('content-range'), (await part.arrayBuffer()).byteLength]).toEqual([206, `bytes 100-199/${size}`, 100]);
    const tail = await fetch(`${app.baseUrl}/staff/review/${id}/media/preview`, { headers: { cookie: `staff=${ana.session()}`, range: 'bytes=-10' } });
    expect([tail.status, (await tail.arrayBuffer()).byteLength]).toEqual([206, 10]);
    expect((await ana.get(`/staff/review/${id}/media/original`, json)).status).toBe(404);
    const anonymous = await fetch(`${app.baseUrl}/staff/review/${id}/media/preview`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);

    const original = await post(ana, `/staff/review/${id}/original`);
    expect([original.status, original.headers.get('content-disposition')]).toEqual([200, `attachment; filename="clip-${id}"`]);
    // Logged once the last byte was handed to the connection: a moment after the client has it all.
    const logged = await waitUntil(() => db().auditEntries.findOne({ 'target.id': id, action: 'original_downloaded' }).lean<AuditEntry>(), {
      timeoutMs: 2_000,
      intervalMs: 20,
      what: 'the original_downloaded audit entry',
    });
    expect(logged.actor.email).toBe('ana@example.org');
    expect((await ana.get(`/staff/review/${id}`)).html).toContain('data-action="original_downloaded"');
  });

  test('when the original is asked for by a plain GET (a link or an image on a page elsewhere), or a POST without the CSRF token, then nothing is sent and nothing is logged', async () => {
    const { id } = await clipInReview(app);
    const page = await ana.get(`/staff/review/${id}`);
    // The page offers a form that posts the token, not a link.
    expect(page.html).toMatch(new RegExp(`<form method="post" action="/staff/review/${id}/original"[^>]*><input type="hidden" name="_csrf"`));
    expect(page.html).not.toContain(`href="/staff/review/${id}/original"`);
    const cross = await ana.request('GET', `/staff/review/${id}/original`, undefined, { 'sec-fetch-site': 'cross-site' });
    expect(cross.status).toBe(404);
    expect(cross.headers.get('content-disposition')).toBeNull();
    const forged = await ana.request('POST', `/staff/review/${id}/original`, {}, { 'sec-fetch-site': 'cross-site' });
    expect([forged.status, forged.headers.get('content-disposition')]).toEqual([403, null]);
    expect(await db().auditEntries.countDocuments({ 'target.id': id, action: 'original_downloaded' })).toBe(0);
  });

  test('when the original cannot be read, then the moderator gets a page saying so (not a server error) and no download is logged', async () => {
    const { id } = await clipInReview(app);
    await ana.get(`/staff/review/${id}`);
    await app.services.storage.remove(originalKey(id));
    const failed = await ana.request('POST', `/staff/review/${id}/original`, { _csrf: ana.csrf() }, { accept: 'text/html' });
    expect([failed.status, failed.headers.get('content-type')]).toEqual([410, expect.stringContaining('text/html')]);
    expect(failed.html).toContain('The original of this clip has been deleted');
    expect(await db().auditEntries.countDocuments({ 'target.id': id, action: 'original_downloaded' })).toBe(0);
  });

  test("when a moderator limited to other campaigns opens or decides a clip, then it is not found; the queue does not list it", async () => {
    const { id } = await clipInReview(app);
    expect((await limited.get(`/staff/review/${id}`, json)).status).toBe(404);
    expect((await limited.request('GET', `/staff/review/${id}/media/preview`, undefined, json)).status).toBe(404);
    expect((await post(limited, `/staff/review/${id}/claim`)).status).toBe(404);
    expect((await limited.get('/staff/queue')).html).not.toContain(id);
  });

  test('when clips are approved in bulk, then only those of a campaign without the checklist (and not sensitive) are approved; bulk rejection works for any', async () => {
    const quick = await clipInReview(app, { campaign: 'quick' });
    const quickSensitive = await clipInReview(app, { campaign: 'quick', protection: true });
    const demo = await clipInReview(app);
    const answer = await post(ana, '/staff/queue/bulk', { action: 'approve', ids: quick.id } as never);
    expect([answer.status, answer.html.includes('Done: 1. Skipped: 0.')]).toEqual([200, true]);
    const form = new URLSearchParams([['_csrf', ana.csrf()], ['action', 'approve'], ['ids', quick.id], ['ids', quickSensitive.id], ['ids', demo.id]]);
    await ana.get('/staff/queue');
    const many = await ana.request('POST', '/staff/queue/bulk', new URLSearchParams([...form].map(([k, v]) => [k, k === '_csrf' ? ana.csrf() : v])).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(many.status).toBe(200);
    expect([(await load(quick.id)).status, (await load(quickSensitive.id)).status, (await load(demo.id)).status]).toEqual(['approved', 'in_review', 'in_review']);
    expect(many.html).toContain('Done: 0. Skipped: 3.');
    expect(many.html).toContain('Tick the safety checklist before approving this clip.');

    const reject = new URLSearchParams([['_csrf', ana.csrf()], ['action', 'reject'], ['template', 'duplicate'], ['ids', quickSensitive.id], ['ids', demo.id]]);
    expect((await ana.request('POST', '/staff/queue/bulk', reject.toString(), { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(200);
    expect([(await load(quickSensitive.id)).rejection?.reason, (await load(demo.id)).status]).toEqual(['Мы ўжо атрымалі гэта відэа. Дзякуй!', 'rejected']);
  });

  test('when queries and bodies carry operators, arrays or unknown fields, then they are refused with 400 before any query', async () => {
    const { id } = await clipInReview(app);
    for (const query of ['language[$ne]=x', 'language=be&language=ru', 'campaign[$gt]=', 'after=' + Buffer.from('{"$gt":1}').toString('base64url'), 'organisation[$regex]=.*', 'wait=5', 'x=1']) {
      const answer = await ana.get(`/staff/queue?${query}`, json);
      expect([query, answer.status, problem(answer.html).code]).toEqual([query, 400, 'invalid_query']);
    }
    await ana.get('/staff/queue');
    const token = ana.csrf();
    const bodies: [string, string][] = [
      [`/staff/review/${id}/approve`, JSON.stringify({ _csrf: token, ...ALL_CLEAR, faces: { $ne: null } })],
      [`/staff/review/${id}/reject`, JSON.stringify({ _csrf: token, template: { $ne: '' } })],
      [`/staff/review/${id}/reject`, JSON.stringify({ _csrf: token, note: ['a', 'b'] })],
      ['/staff/queue/bulk', JSON.stringify({ _csrf: token, action: 'approve', ids: [{ $gt: '' }] })],
      ['/staff/queue/bulk', JSON.stringify({ _csrf: token, action: 'approve', ids: { $exists: true } })],
      [`/staff/review/${id}/claim`, JSON.stringify({ _csrf: token, by: 'someone' })],
    ];
    for (const [path, body] of bodies) {
      const answer = await ana.request('POST', path, body, { 'content-type': 'application/json', ...json });
      expect([path, body, answer.status, problem(answer.html).code]).toEqual([path, body, 400, 'invalid_body']);
    }
    expect((await load(id)).status).toBe('in_review');
  });

  test('when the queue is filtered, then only matching clips show, oldest in review first', async () => {
    await db().reviewQueue.deleteMany({});
    const old = await clipInReview(app, { language: 'ru', country: 'UA', organisation: 'Union A', at: new Date(Date.now() - 3 * 3_600_000) });
    const young = await clipInReview(app, { language: 'ru', country: 'UA', organisation: 'Union A' });
    const other = await clipInReview(app, { language: 'be', country: 'BY', organisation: 'Union B', at: new Date(Date.now() - 7_200_000) });
    const order = (html: string) => [...html.matchAll(/<tr data-id="([0-9a-f]{24})"/g)].map((m) => m[1]);
    expect(order((await ana.get('/staff/queue')).html)).toEqual([old.id, other.id, young.id]);
    expect(order((await ana.get('/staff/queue?language=ru')).html)).toEqual([old.id, young.id]);
    expect(order((await ana.get('/staff/queue?country=BY&organisation=Union+B')).html)).toEqual([other.id]);
    expect(order((await ana.get('/staff/queue?language=ru&wait=60')).html)).toEqual([old.id]);
    expect(order((await ana.get('/staff/queue?campaign=quick')).html)).toEqual([]);
    // "Next" leads to the oldest clip nobody else is reviewing.
    await post(boris, `/staff/review/${old.id}/claim`);
    expect((await ana.get('/staff/queue/next')).location).toBe(`/staff/review/${other.id}`);
    expect((await ana.get(`/staff/queue/next?skip=${other.id}`)).location).toBe(`/staff/review/${young.id}`);
  });
});

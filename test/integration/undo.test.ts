import { CHECKLIST, type Moderator } from '../../server/services/review.service';
import { undoDecision } from '../../server/services/undo.service';
import { createWebhook } from '../../server/services/distribution.service';
import { auditFor } from '../../server/services/audit.service';
import { releaseJobId, type QueueJob } from '../../shared/queue/queue';
import { approve } from '../../shared/submissions/moderation';
import { startRelease } from '../../shared/submissions/release';
import type { ReviewEntry } from '../../shared/submissions/review-queue';
import type { Submission } from '../../shared/submissions/submission.model';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { reconcile, RECONCILE } from '../../worker/reconciler';
import { clipInReview } from '../helpers/review-fixtures';
import { loginAs, makeStaff, testClock, type StaffClient, type TestStaff } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { workerDeps } from '../helpers/worker-env';
import { deleteDueOriginals, UNDO_RETENTION_MARGIN_MS } from '../../worker/retention';

const ALL_CLEAR = Object.fromEntries(CHECKLIST.map((item) => [item, 'clear']));
const json = { accept: 'application/json' };
const HOLD_SECONDS = 3;

/** A bounded wait on a condition (no fixed sleeps): polls every 100 ms, fails after `ms`. */
async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Undoing a moderator's decision while nothing has left the system (issue 16, item 16), on the real services:
 * the release waits RELEASE_HOLD_SECONDS in a delayed job; an undo takes the clip back to review, where it was.
 */
describe('undoing a decision', () => {
  let app: TestApp;
  const clock = testClock();
  let ana: StaffClient;
  let anaStaff: TestStaff;
  let boris: StaffClient;
  let borisStaff: TestStaff;
  let lena: StaffClient;
  const db = () => app.services.db;
  const load = async (id: string) => (await db().submissions.findById(id).lean<Submission>())!;
  const entry = async (id: string) => db().reviewQueue.findById(id).lean<ReviewEntry>();
  const problem = (html: string) => JSON.parse(html) as { code: string; title: string };
  const me = (staff: TestStaff): Moderator => ({ id: staff.user._id.toHexString(), email: staff.email, role: 'moderator', campaigns: [] });
  const reviewDeps = () => ({ db: db(), now: clock.now, claimSeconds: app.config.review.claimSeconds, queue: app.services.queue, releaseHoldSeconds: HOLD_SECONDS, retention: app.config.retention });

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', RELEASE_HOLD_SECONDS: String(HOLD_SECONDS), WEBHOOK_ALLOW_LOOPBACK: 'true' }, clock.now);
    await seedDemoCampaign(app.deps);
    await seedDemoCampaign(app.deps, { slug: 'quick', name: 'Quick' });
    anaStaff = await makeStaff(app, clock.now, 'moderator', { email: 'ana@example.org' });
    ana = await loginAs(app, clock, anaStaff);
    borisStaff = await makeStaff(app, clock.now, 'moderator', { email: 'boris@example.org' });
    boris = await loginAs(app, clock, borisStaff);
    lena = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { email: 'lena@example.org', campaigns: ['quick'] }));
  });

  afterAll(async () => {
    await app.close();
  });

  async function post(client: StaffClient, path: string, form: Record<string, string> = {}, headers: Record<string, string> = json) {
    await client.get('/staff/queue');
    return client.post(path, form, headers);
  }

  async function approveAs(client: StaffClient, id: string, form: Record<string, string> = ALL_CLEAR) {
    await post(client, `/staff/review/${id}/claim`);
    return post(client, `/staff/review/${id}/approve?campaign=demo`, form);
  }

  let releasing = false;
  /** From the first call on, release jobs are taken from the queue and run by the real handler, as the worker does. */
  function startReleaseWorker(): void {
    if (releasing) return;
    releasing = true;
    const deps = workerDeps(app);
    void app.services.queue.process('release-submission', 1, (job: QueueJob<'release-submission'>) => releaseSubmission(deps, job));
  }

  async function status(id: string, token: string) {
    const response = await fetch(`${app.baseUrl}/api/submissions/${id}/status`, { headers: { authorization: `Bearer ${token}` } });
    return (await response.json()) as { status: string; rejection: { reason: string } | null };
  }

  test('when a moderator approves and undoes within the hold, then the release job is gone, nothing was sent, and the clip is back in review where it was, audited', async () => {
    const older = await clipInReview(app, { at: new Date(Date.now() - 3 * 3_600_000) });
    const { id } = await clipInReview(app, { at: new Date(Date.now() - 2 * 3_600_000) });
    const enteredAt = (await entry(id))!.enteredAt;
    const approved = await approveAs(ana, id);
    expect(approved.status).toBe(303);
    // The release waits out its hold: a delayed job, nothing rendered, no webhook delivery recorded.
    expect((await load(id)).status).toBe('approved');
    expect(await app.services.queue.jobState(releaseJobId(id))).toBe('delayed');
    expect(await db().webhookDeliveries.countDocuments({ submissionId: id })).toBe(0);

    // The notice on the next clip (within the filter) offers "Undo", with when the release starts.
    const next = await ana.get(approved.location!);
    expect(approved.location).toBe(`/staff/queue/next?skip=${id}&done=approved&campaign=demo`);
    const landed = await ana.get(next.location!);
    expect(next.location).toContain(`/staff/review/${older.id}?`);
    expect(landed.html).toContain(`action="/staff/review/${id}/undo?campaign=demo"`);
    expect(landed.html).toContain('You can undo it until its release starts');

    // The clip's own page offers it too, to the moderator who approved it only.
    expect((await ana.get(`/staff/review/${id}`)).html).toContain(`action="/staff/review/${id}/undo"`);
    expect((await boris.get(`/staff/review/${id}`)).html).not.toContain(`/staff/review/${id}/undo`);
    await ana.get(next.location!);
    const undone = await ana.post(`/staff/review/${id}/undo?campaign=demo`, {});
    expect([undone.status, undone.location]).toEqual([303, `/staff/review/${id}?undone=approved&campaign=demo`]);
    expect((await ana.get(undone.location!)).html).toContain('Undone: your approval is withdrawn and the clip is back in review. Nothing was released.');
    const back = await load(id);
    expect(back.status).toBe('in_review');
    expect(back.history.at(-1)).toMatchObject({ transition: 'approval_undone', from: 'approved', to: 'in_review', by: anaStaff.user._id.toHexString() });
    expect(await app.services.queue.jobState(releaseJobId(id))).toBeNull();
    // Its place in the queue is the one it had (oldest first), not the back of the queue.
    expect((await entry(id))!.enteredAt.toISOString()).toBe(enteredAt.toISOString());
    const audit = await auditFor(db(), { kind: 'submission', id });
    expect(audit.map((a) => [a.action, a.details.undid ?? null])).toEqual([['claim', null], ['approve', null], ['undo', 'approved']]);
    expect(audit.at(-1)!.details.releaseJob).toBe('removed');

    // A release job that runs anyway (taken just before the undo) finds the clip in review and does nothing;
    // the reconciler, long after the hold, does not bring the release back.
    const deps = workerDeps(app);
    await releaseSubmission(deps, { id: releaseJobId(id), name: 'release-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined });
    await reconcile(deps, new Date(Date.now() + RECONCILE.receivedGraceMs + 60_000), { reviewQueue: false });
    expect(await app.services.queue.jobState(releaseJobId(id))).toBeNull();
    expect((await load(id)).status).toBe('in_review');
    // Undoing twice: nothing of theirs is left to undo.
    const twice = await post(ana, `/staff/review/${id}/undo`);
    expect([twice.status, problem(twice.html).code]).toEqual([409, 'nothing_to_undo']);
  });

  test('when an approval is undone by someone else, or outside their campaigns, then it is refused (409, 404) and stays approved', async () => {
    const { id } = await clipInReview(app);
    await approveAs(ana, id);
    const other = await post(boris, `/staff/review/${id}/undo`);
    expect([other.status, problem(other.html).code]).toEqual([409, 'undo_not_yours']);
    const outside = await post(lena, `/staff/review/${id}/undo`);
    expect([outside.status, problem(outside.html).code]).toEqual([404, 'submission_not_found']);
    // Nor without the CSRF token.
    const forged = await ana.request('POST', `/staff/review/${id}/undo`, { _csrf: 'forged' }, json);
    expect(forged.status).toBe(403);
    expect((await load(id)).status).toBe('approved');
    expect((await auditFor(db(), { kind: 'submission', id })).map((a) => a.action)).not.toContain('undo');
  });

  test('when the release has started, then the undo is refused with the reason on the page, and nothing changes', async () => {
    const { id } = await clipInReview(app);
    await approveAs(ana, id);
    // The release job's first step, as the worker takes it once the hold is over.
    expect(await startRelease(db().submissions, id, { by: 'worker', holdSeconds: 0 })).not.toBeNull();
    const refused = await post(ana, `/staff/review/${id}/undo`, {}, {});
    expect(refused.status).toBe(409);
    expect(refused.html).toContain('The release of this clip has started: its approval can no longer be undone. Withdraw the clip if it must not be shared.');
    const asJson = await post(ana, `/staff/review/${id}/undo`);
    expect([asJson.status, problem(asJson.html).code]).toEqual([409, 'undo_release_started']);
    expect((await load(id)).status).toBe('releasing');
    expect(await entry(id)).toBeNull();
  });

  test('when an undo and the release job start at the same instant, then exactly one wins, every time, and the clip is never both back in review and releasing', async () => {
    const outcomes = { undo: 0, release: 0 };
    for (let round = 0; round < 12; round += 1) {
      const { id } = await clipInReview(app);
      await approve(db().submissions, id, { by: anaStaff.user._id.toHexString(), queue: app.services.queue, holdSeconds: HOLD_SECONDS });
      // The release job's start a little later each round (the undo reads more before its move), so both win some.
      const undo = undoDecision(reviewDeps(), me(anaStaff), id).then(() => 'undone' as const, (error: { code?: string }) => error.code ?? 'error');
      const release = new Promise((resolve) => setTimeout(resolve, round)).then(() => startRelease(db().submissions, id, { by: 'worker', holdSeconds: 0 }));
      const [undid, started] = await Promise.all([undo, release]);
      const after = await load(id);
      if (undid === 'undone') {
        expect([round, started, after.status, await entry(id) !== null]).toEqual([round, null, 'in_review', true]);
        outcomes.undo += 1;
      } else {
        expect([round, undid, started?.status, after.status, await entry(id)]).toEqual([round, 'undo_release_started', 'releasing', 'releasing', null]);
        outcomes.release += 1;
      }
      const moves = after.history.map((h) => h.transition).filter((t) => t === 'approval_undone' || t === 'release_started');
      expect(moves).toHaveLength(1);
      await app.services.queue.cancel(releaseJobId(id)); // no release of these clips later in this file
    }
    expect(outcomes.undo + outcomes.release).toBe(12);
    process.stdout.write(`undo vs release start, 12 races: undo won ${outcomes.undo}, release won ${outcomes.release}\n`);
  });

  test('when a moderator rejects and undoes, then the rejection is cleared and the contributor sees the clip waiting for review; near its deletion, the undo is refused', async () => {
    const { id, statusToken } = await clipInReview(app);
    await post(ana, `/staff/review/${id}/claim`);
    const rejected = await post(ana, `/staff/review/${id}/reject`, { template: 'off_topic', note: '' });
    expect(rejected.status).toBe(303);
    expect((await status(id, statusToken)).status).toBe('rejected');
    // The queue (nothing else left in this filter? the next clip) offers the undo.
    const next = await ana.get(rejected.location!);
    expect((await ana.get(next.location!)).html).toContain(`action="/staff/review/${id}/undo"`);

    const undone = await post(ana, `/staff/review/${id}/undo`);
    expect([undone.status, undone.location]).toEqual([303, `/staff/review/${id}?undone=rejected`]);
    const back = await load(id);
    expect([back.status, back.rejection, back.history.at(-1)!.transition]).toEqual(['in_review', null, 'rejection_undone']);
    expect(await status(id, statusToken)).toMatchObject({ status: 'in_review', rejection: null });
    expect((await auditFor(db(), { kind: 'submission', id })).map((a) => a.action)).toEqual(['claim', 'reject', 'undo']);

    // Rejected again, and now its media are due for deletion in 5 minutes: too late to undo.
    await post(ana, `/staff/review/${id}/claim`);
    await post(ana, `/staff/review/${id}/reject`, { template: 'off_topic', note: '' });
    const found = await load(id);
    const history = found.history.map((h, i) => (i === found.history.length - 1 ? { ...h, at: new Date(Date.now() - app.config.retention.declinedDays * 86_400_000 + 5 * 60_000) } : h));
    await db().submissions.updateOne({ _id: id }, { $set: { history } });
    const late = await post(ana, `/staff/review/${id}/undo`);
    expect([late.status, problem(late.html).code]).toEqual([409, 'undo_rejection_final']);
    // And once they are deleted, whatever the time.
    await db().submissions.updateOne({ _id: id }, { $set: { history: found.history, mediaDeletedAt: new Date() } });
    const gone = await post(ana, `/staff/review/${id}/undo`);
    expect([gone.status, problem(gone.html).code]).toEqual([409, 'undo_rejection_final']);
    expect((await load(id)).status).toBe('rejected');
  });

  test('when a sensitive clip is approved twice, then the second approver\'s undo puts it back with the first approval kept; the first approver can withdraw their own vote', async () => {
    const { id } = await clipInReview(app);
    const present = { ...ALL_CLEAR, faces: 'present' };
    const vote = await approveAs(ana, id, present);
    expect(vote.location).toContain('done=vote');
    // The first approval (a vote) undone: the clip stays in review without it.
    expect((await post(ana, `/staff/review/${id}/undo`)).location).toBe(`/staff/review/${id}?undone=vote`);
    expect((await entry(id))!.approvals).toEqual([]);
    expect((await entry(id))!.sensitive).toBe(true);
    await approveAs(ana, id, present);
    expect((await approveAs(boris, id, present)).location).toContain('done=approved');
    expect((await load(id)).status).toBe('approved');

    const undone = await post(boris, `/staff/review/${id}/undo`);
    expect(undone.location).toBe(`/staff/review/${id}?undone=approved`);
    const back = (await entry(id))!;
    expect([back.sensitive, back.approvals.map((v) => v.email)]).toEqual([true, ['ana@example.org']]);
    // Still one approval short, and never twice by the same moderator.
    const again = await post(ana, `/staff/review/${id}/approve`, present);
    expect([again.status, problem(again.html).code]).toEqual([409, 'already_approved']);
    expect((await approveAs(boris, id, present)).location).toContain('done=approved');
    expect((await load(id)).status).toBe('approved');
    const undos = (await auditFor(db(), { kind: 'submission', id })).filter((a) => a.action === 'undo').map((a) => a.details.undid);
    expect(undos).toEqual(['vote', 'approved']);
  });

  test('when an approved clip\'s delayed job is lost, then the reconciler queues its release again, once the hold is over; a job that runs within the hold starts nothing', async () => {
    const { id } = await clipInReview(app);
    await approveAs(ana, id);
    // A job of an earlier approval firing early (undo, approve again): the hold is checked in the database's record.
    await releaseSubmission(workerDeps(app), { id: releaseJobId(id), name: 'release-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined });
    expect((await load(id)).status).toBe('approved');
    expect(await app.services.queue.cancel(releaseJobId(id))).toBe('removed'); // Redis lost it
    await reconcile(workerDeps(app), new Date(Date.now() + RECONCILE.receivedGraceMs + 1_000), { reviewQueue: false });
    expect(await app.services.queue.jobState(releaseJobId(id))).toBe('waiting');
    expect((await load(id)).status).toBe('approved');
    await app.services.queue.cancel(releaseJobId(id)); // not released in this file
  });

  test('when the retention job runs during an approval\'s hold, then it leaves the clip alone (a protected clip keeps its clean master for an undo); long after, it acts and the undo is refused', async () => {
    expect(app.config.retention.protectedDays).toBe(0); // the default: a protected clip's unprotected objects go at approval
    const { id } = await clipInReview(app, { protection: true });
    await approve(db().submissions, id, { by: anaStaff.user._id.toHexString(), queue: app.services.queue, holdSeconds: HOLD_SECONDS });
    const deps = workerDeps(app);
    const approvedAt = (await load(id)).history.at(-1)!.at.getTime();
    await deleteDueOriginals(deps, new Date(approvedAt + HOLD_SECONDS * 1000 + UNDO_RETENTION_MARGIN_MS - 1_000));
    const kept = await load(id);
    expect([kept.originalDeletedAt, Boolean(kept.outputs.master)]).toEqual([null, true]);
    expect(await app.services.storage.list(`originals/${id}/`)).not.toEqual([]);

    // A release that never started, well past the hold: retention takes the unprotected objects, and the undo is refused.
    await deleteDueOriginals(deps, new Date(approvedAt + HOLD_SECONDS * 1000 + UNDO_RETENTION_MARGIN_MS + 1_000));
    expect((await load(id)).originalDeletedAt).not.toBeNull();
    const late = await post(ana, `/staff/review/${id}/undo`);
    expect([late.status, problem(late.html).code]).toEqual([409, 'undo_original_deleted']);
    expect((await load(id)).status).toBe('approved');
    await app.services.queue.cancel(releaseJobId(id));
  });

  test('when the hold is over, then the real release job renders the clip and only then is the webhook delivery recorded; the undo is refused from then on', async () => {
    let received = 0;
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => {
      received += 1;
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      await createWebhook(app.deps, { campaign: 'demo', team: 'Social team', url: `http://127.0.0.1:${port}/hook`, use: 'social', createdBy: 'admin' }, new Date());
      // Only this clip's release runs here: the jobs the earlier tests left are taken off the queue.
      for (const left of await db().submissions.find({ status: { $in: ['approved', 'releasing'] } }).select({ _id: 1 }).lean()) await app.services.queue.cancel(releaseJobId(left._id.toHexString()));
      const { id } = await clipInReview(app);
      const approvedAt = Date.now();
      await approveAs(ana, id);
      expect(await db().webhookDeliveries.countDocuments({ submissionId: id })).toBe(0);
      // A worker takes release jobs from here on, as the worker process does (its webhook deliveries are not run: they are only recorded).
      startReleaseWorker();
      const started = await until('the release to start', () => load(id), (s) => s.status !== 'approved', 30_000);
      expect(started.history.find((h) => h.transition === 'release_started')!.at.getTime() - approvedAt).toBeGreaterThanOrEqual(HOLD_SECONDS * 1000 - 2_000);
      const refused = await post(ana, `/staff/review/${id}/undo`);
      expect([refused.status, problem(refused.html).code]).toEqual([409, 'undo_release_started']);
      const released = await until('the release to finish', () => load(id), (s) => s.status === 'released', 120_000);
      expect(released.history.map((h) => h.transition).slice(-3)).toEqual(['approved', 'release_started', 'release_finished']);
      // Recorded by the release job right after its finish.
      await until('the webhook delivery to be recorded', () => db().webhookDeliveries.countDocuments({ submissionId: id }), (n) => n >= 1, 10_000);
      expect(await db().webhookDeliveries.countDocuments({ submissionId: id })).toBe(1);
      expect(received).toBe(0); // nothing was sent at approval; the delivery job is the worker's (not run here)
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 180_000);

  test('when a release job runs before the hold ends (it completes having done nothing), then the reconciler queues the release again and the clip is released', async () => {
    startReleaseWorker();
    const { id } = await clipInReview(app);
    await approveAs(ana, id);
    // A job of an earlier, undone approval firing early: taken at once, within the hold.
    await app.services.queue.cancel(releaseJobId(id));
    await app.services.queue.enqueue('release-submission', { submissionId: id });
    await until('the early job to complete', () => app.services.queue.jobState(releaseJobId(id)), (state) => state === 'completed', 10_000);
    const approved = await load(id);
    expect(approved.status).toBe('approved');
    // The reconciler's round comes later than the hold's end (its clock is moved on; the job's is real).
    const ends = approved.history.at(-1)!.at.getTime() + HOLD_SECONDS * 1000;
    await until('the hold to end', async () => Date.now(), (now) => now > ends, 10_000);
    await reconcile(workerDeps(app), new Date(Date.now() + RECONCILE.receivedGraceMs + 1_000), { reviewQueue: false });
    const released = await until('the release', () => load(id), (s) => s.status === 'released', 120_000);
    expect(released.history.map((h) => h.transition).slice(-3)).toEqual(['approved', 'release_started', 'release_finished']);
  }, 180_000);
});

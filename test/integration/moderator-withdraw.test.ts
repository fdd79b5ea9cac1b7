import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { releaseJobId, takedownJobId, type QueueJob } from '../../shared/queue/queue';
import { approve } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import { createFeedToken, createWebhook } from '../../server/services/distribution.service';
import { listGallery } from '../../server/services/gallery.service';
import type { WorkerDeps } from '../../worker/deps';
import { deliverWebhook } from '../../worker/handlers/deliver-webhook.handler';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { takedownSubmission } from '../../worker/handlers/takedown-submission.handler';
import { FIXTURES } from '../helpers/fixtures';
import { expectNothingLeft } from '../helpers/nothing-left';
import { loginAs, makeStaff, testClock, type StaffClient } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { fakeJob, runWorker, submitFile, workerDeps } from '../helpers/worker-env';
import { waitUntil } from '../helpers/wait-until';
import { cleanWorkDir, jobFolders, ownWorkDir, processesIn } from '../helpers/worker-processes';
import { processSubmission } from '../../worker/handlers/process-submission.handler';

function job<N extends 'release-submission' | 'takedown-submission' | 'deliver-webhook'>(name: N, payload: QueueJob<N>['payload'], id: string): QueueJob<N> {
  return { id, name, payload, attempt: 1, maxAttempts: 8, reportProgress: async () => undefined };
}

/** A moderator takes a released clip down from its review page: the same withdrawal as the contributor's. */
describe('withdrawal by a moderator', () => {
  let app: TestApp;
  let deps: WorkerDeps;
  let moderator: StaffClient;
  let moderatorEmail: string;
  const clock = testClock();
  let receiver: { server: Server; url: string; bodies: string[] };
  // The worker's job folders, so its encode can be found (and held).
  const workDir = ownWorkDir();

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', WEBHOOK_ALLOW_LOOPBACK: 'true', WORK_DIR: workDir }, clock.now); // the team's receiver is on 127.0.0.1
    await seedDemoCampaign(app.deps);
    deps = workerDeps(app);
    const staff = await makeStaff(app, clock.now, 'moderator', { campaigns: ['demo'] });
    moderatorEmail = staff.email;
    moderator = await loginAs(app, clock, staff);
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
    await app.close();
    await cleanWorkDir(workDir);
  });

  const load = async (id: string) => (await deps.db.submissions.findById(id).lean<Submission>())!;

  async function releasedClip(): Promise<string> {
    const id = (await runWorker(deps, await submitFile(app, await FIXTURES.noAudio!())))._id.toHexString();
    await approve(deps.db.submissions, id, { by: 'moderator' });
    await releaseSubmission(deps, job('release-submission', { submissionId: id }, releaseJobId(id)));
    expect((await load(id)).status).toBe('released');
    return id;
  }

  test('when a moderator withdraws a released clip from its review page, then it leaves the gallery and feeds, is audited as theirs, its release, master and previews are deleted and the webhook is told', async () => {
    await createWebhook(app.deps, { campaign: 'demo', team: 'Social team', url: receiver.url, use: 'social', createdBy: 'admin' }, new Date());
    const feed = await createFeedToken(app.deps, { campaign: 'demo', team: 'Social team', use: 'social', createdBy: 'admin' }, new Date());
    const id = (await runWorker(deps, await submitFile(app, await FIXTURES.noAudio!())))._id.toHexString();
    // The contributor's own words, distinctive enough to be searched for everywhere once the clip is gone.
    const personal = { title: 'Dzmitry from shift four', organisation: 'Grodno Azot strike committee', message: 'Call me after the night shift', contactEmail: 'dzmitry.k@example.org' };
    await deps.db.submissions.updateOne({ _id: id }, { $set: personal });
    await approve(deps.db.submissions, id, { by: 'moderator' });
    await releaseSubmission(deps, job('release-submission', { submissionId: id }, releaseJobId(id)));
    expect((await load(id)).status).toBe('released');
    // The release webhook was told the title (the teams' tools show it).
    const released = (await deps.db.webhookDeliveries.findOne({ submissionId: id, event: 'release' }).lean())!;
    expect(released.body).toContain(personal.title);
    const masterKey = (await load(id)).outputs.master!.key;
    const feedIds = async () => ((await (await fetch(`${app.baseUrl}/api/feeds/${feed.token}/releases.json`)).json()) as { items: Array<{ id: string }> }).items.map((i) => i.id);
    expect(await feedIds()).toContain(id);

    // The review page offers the withdrawal to a moderator, behind a confirmation and a reason.
    const page = await moderator.get(`/staff/review/${id}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain(`action="/staff/review/${id}/withdraw"`);

    // Without the confirmation, or without a reason: refused with a specific message, nothing changes.
    const unconfirmed = await moderator.post(`/staff/review/${id}/withdraw`, { reason: 'asked by the union' }, { accept: 'application/json' });
    expect([unconfirmed.status, JSON.parse(unconfirmed.html).code]).toEqual([400, 'withdraw_unconfirmed']);
    const noReason = await moderator.post(`/staff/review/${id}/withdraw`, { confirm: 'yes', reason: '  ' }, { accept: 'application/json' });
    expect([noReason.status, JSON.parse(noReason.html).code]).toEqual([400, 'withdraw_reason_required']);
    expect((await load(id)).status).toBe('released');

    const done = await moderator.post(`/staff/review/${id}/withdraw`, { confirm: 'yes', reason: 'asked by the union' });
    expect([done.status, done.location]).toEqual([303, `/staff/review/${id}?withdrawn=1`]);
    const withdrawn = await load(id);
    expect(withdrawn.status).toBe('withdrawn');
    expect(withdrawn.history.at(-1)).toMatchObject({ transition: 'withdrawn', from: 'released', reason: 'asked by the union' });
    const audit = await app.services.db.auditEntries.find({ 'target.id': id }).lean();
    expect(audit.map((e) => [e.action, e.actor.email, e.details.from, e.details.by])).toEqual([['withdraw', moderatorEmail, 'released', 'moderator']]);
    expect((await moderator.get(`/staff/review/${id}?withdrawn=1`)).html).toContain('The clip was withdrawn.');

    // Gone from the gallery and the feeds at once.
    const { items } = await listGallery(app.deps, { campaigns: [] }, { use: 'social' });
    expect(items.map((i) => i.id)).not.toContain(id);
    expect(await feedIds()).not.toContain(id);

    // The takedown deletes the release objects and the master, and tells the team's webhook.
    expect(await deps.queue.jobState(takedownJobId(id))).toBe('waiting');
    await takedownSubmission(deps, job('takedown-submission', { submissionId: id }, takedownJobId(id)));
    expect(await app.services.storage.list(masterKey)).toEqual([]);
    expect((await load(id)).takenDownAt).toEqual(expect.any(Date));
    // The contributor is told their clip is deleted: nothing made from it stays, nor in its record, nor their words
    // anywhere (the delivery log included); its page says so without media.
    await expectNothingLeft(app, id, 'declined', Object.values(personal));
    expect((await moderator.get(`/staff/review/${id}`)).status).toBe(200);
    expect((await moderator.get(`/staff/review/${id}/media/preview`, { accept: 'application/json' })).status).toBe(404);
    const delivery = (await deps.db.webhookDeliveries.findOne({ submissionId: id, event: 'withdrawal' }).lean())!;
    await deliverWebhook(deps, job('deliver-webhook', { deliveryId: delivery._id.toHexString() }, `webhook-${delivery._id.toHexString()}`));
    expect(JSON.parse(receiver.bodies.at(-1)!)).toMatchObject({ event: 'withdrawal', clip: { id } });

    // Twice changes nothing and is not audited again.
    const again = await moderator.post(`/staff/review/${id}/withdraw`, { confirm: 'yes', reason: 'again' });
    expect(again.status).toBe(303);
    expect(await app.services.db.auditEntries.countDocuments({ 'target.id': id })).toBe(1);
  });

  test('when a moderator limited to another campaign tries to withdraw a clip, then it is not found and nothing changes', async () => {
    const id = await releasedClip();
    const { _id, createdAt: _c, updatedAt: _u, ...demo } = (await app.services.db.campaigns.findOne({ slug: 'demo' }).lean())!;
    await app.services.db.campaigns.create({ ...demo, slug: 'another-campaign', name: 'Another' });
    const other = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { campaigns: ['another-campaign'] }));
    await other.get('/staff');
    const answer = await other.post(`/staff/review/${id}/withdraw`, { confirm: 'yes', reason: 'not mine' }, { accept: 'application/json' });
    expect([answer.status, JSON.parse(answer.html).code]).toEqual([404, 'submission_not_found']);
    expect((await load(id)).status).toBe('released');
  });

  test('when two moderators withdraw the same clip at once, then both are answered as done and it is audited once', async () => {
    const id = (await runWorker(deps, await submitFile(app, await FIXTURES.noAudio!())))._id.toHexString();
    const second = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { campaigns: ['demo'] }));
    await Promise.all([moderator.get(`/staff/review/${id}`), second.get(`/staff/review/${id}`)]);
    const answers = await Promise.all([moderator, second].map((who) => who.post(`/staff/review/${id}/withdraw`, { confirm: 'yes', reason: 'asked twice' })));
    expect(answers.map((a) => a.status)).toEqual([303, 303]);
    expect((await load(id)).status).toBe('withdrawn');
    expect(await app.services.db.auditEntries.countDocuments({ 'target.id': id, action: 'withdraw' })).toBe(1);
  });

  test('when a clip is withdrawn while the worker processes it, then nothing the worker made stays after the takedown', async () => {
    const id = await submitFile(app, await FIXTURES.shortEncode!());
    const working = processSubmission(deps, fakeJob(id)).catch((error: unknown) => error);
    // The encode is held (SIGSTOP) while the withdrawal lands: the clip is still processing then (checked below).
    const encode = await waitUntil(async () => {
      const folders = await jobFolders(workDir);
      const pids = (await Promise.all(folders.map((folder) => processesIn(`${folder.path}/out/`)))).flat();
      return pids.length > 0 ? pids : null;
    }, { timeoutMs: 60_000, intervalMs: 20, what: "the worker's encode" });
    for (const pid of encode) process.kill(pid, 'SIGSTOP');
    try {
      await moderator.get(`/staff/review/${id}`);
      expect((await moderator.post(`/staff/review/${id}/withdraw`, { confirm: 'yes', reason: 'asked before review' })).status).toBe(303);
    } finally {
      for (const pid of encode) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          /* killed meanwhile (the worker lost its lease) */
        }
      }
    }
    await working;
    await takedownSubmission(deps, job('takedown-submission', { submissionId: id }, takedownJobId(id)));
    const after = await load(id);
    expect([after.status, after.outputs.master ?? null, after.takenDownAt]).toEqual(['withdrawn', null, expect.any(Date)]);
    expect((await app.services.db.auditEntries.findOne({ 'target.id': id, action: 'withdraw' }).lean())!.details.from).toBe('processing');
    await expectNothingLeft(app, id, 'declined');
  });
});

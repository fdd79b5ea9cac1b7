import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../../shared/distribution/webhooks';
import { OPS_COUNTERS } from '../../shared/ops-counters';
import type { Lookup } from '../../shared/distribution/webhook-address';
import { jobOptions, releaseJobId, takedownJobId, type QueueJob } from '../../shared/queue/queue';
import { approve } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import { createFeedToken, createWebhook, revokeFeedToken } from '../../server/services/distribution.service';
import { withdrawSubmission } from '../../server/services/withdrawal.service';
import type { WorkerDeps } from '../../worker/deps';
import { deliverWebhook } from '../../worker/handlers/deliver-webhook.handler';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { takedownSubmission } from '../../worker/handlers/takedown-submission.handler';
import { FIXTURES } from '../helpers/fixtures';
import { xmlProblems } from '../helpers/xml-well-formed';
import { loginAs, makeStaff, testClock } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { runWorker, submitFile, workerDeps } from '../helpers/worker-env';

function job<N extends 'release-submission' | 'takedown-submission' | 'deliver-webhook'>(name: N, payload: QueueJob<N>['payload'], attempt = 1): QueueJob<N> {
  return { id: `${name}-x`, name, payload, attempt, maxAttempts: 8, reportProgress: async () => undefined };
}

/** A team's receiver: checks every signature, fails the first `failures` requests, then accepts. */
async function startReceiver(secret: () => string, failures: number) {
  const received: Array<{ body: string; valid: boolean; status: number; host: string | undefined }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const valid = verifyWebhookSignature(secret(), { timestamp: req.headers['solidarity-timestamp'] as string, signature: req.headers['solidarity-signature'] as string }, body, new Date());
      const status = !valid ? 401 : received.filter((r) => r.valid).length < failures ? 503 : 204;
      received.push({ body, valid, status, host: req.headers.host });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('feeds and webhooks', () => {
  let app: TestApp;
  let deps: WorkerDeps;
  const clock = testClock();

  beforeAll(async () => {
    // The teams' receivers in these tests listen on 127.0.0.1: loopback is allowed here (and nowhere in production).
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', WEBHOOK_ALLOW_LOOPBACK: 'true' }, clock.now);
    await seedDemoCampaign(app.deps);
    deps = workerDeps(app);
  });

  afterAll(async () => {
    await app.close();
  });

  const load = async (id: string) => (await deps.db.submissions.findById(id).lean<Submission>())!;
  const webhookTotals = async () => {
    const totals = await deps.counters.read();
    const total = (name: string) => totals.find((t) => t.name === name)?.value ?? 0;
    return { attempts: total(OPS_COUNTERS.webhookAttemptsFailed), givenUp: total(OPS_COUNTERS.webhookDeliveriesFailed) };
  };

  async function releasedClip(statements?: string[]): Promise<string> {
    const id = (await runWorker(deps, await submitFile(app, await FIXTURES.noAudio!())))._id.toHexString();
    if (statements) await deps.db.submissions.updateOne({ _id: id }, { $set: { 'consent.statements': statements } });
    await approve(deps.db.submissions, id, { by: 'moderator' });
    await releaseSubmission(deps, job('release-submission', { submissionId: id }));
    expect((await load(id)).status).toBe('released');
    return id;
  }

  test('when a team reads its feeds, then both list the released clips agreed for its use, links work, and a withdrawn clip or a revoked token is gone at once', async () => {
    const social = await createFeedToken(app.deps, { campaign: 'demo', team: 'Social team', use: 'social', createdBy: 'admin' }, new Date());
    const press = await createFeedToken(app.deps, { campaign: 'demo', team: 'Press team', use: 'press', createdBy: 'admin' }, new Date());
    const [plain, pressOk] = [await releasedClip(), await releasedClip(['record', 'publish', 'risk', 'press'])];
    const json = async (token: string) => (await (await fetch(`${app.baseUrl}/api/feeds/${token}/releases.json`)).json()) as { version: string; items: Array<{ id: string; attachments: Array<{ url: string; title: string }> }> };
    // Every Atom feed read here is checked as a feed reader's XML parser would.
    const atom = async (token: string) => {
      const text = await (await fetch(`${app.baseUrl}/api/feeds/${token}/releases.atom`)).text();
      expect(xmlProblems(text)).toEqual([]);
      return text;
    };

    const feed = await json(social.token);
    expect(feed.version).toBe('https://jsonfeed.org/version/1.1');
    expect(feed.items.map((i) => i.id)).toEqual(expect.arrayContaining([plain, pressOk]));
    expect((await json(press.token)).items.map((i) => i.id)).toEqual([pressOk]); // consent decides
    const atomText = await atom(social.token);
    expect(atomText).toContain(`<id>urn:solidarity-clips:${plain}</id>`);
    expect(atomText).toMatch(/<link rel="enclosure" href="[^"]+\/files\/[0-9a-f]{24}\/vertical" type="video\/mp4"/);

    const attachment = feed.items.find((i) => i.id === plain)!.attachments.find((a) => a.title.endsWith('-9x16.mp4'))!;
    const download = await fetch(`${app.baseUrl}${new URL(attachment.url, app.baseUrl).pathname}`, { redirect: 'manual' });
    expect(download.status).toBe(303);
    expect((await fetch(download.headers.get('location')!)).status).toBe(200);

    await withdrawSubmission(app.deps, plain, { actor: { id: null, email: null }, by: 'contributor' });
    expect((await json(social.token)).items.map((i) => i.id)).not.toContain(plain);
    expect(await atom(social.token)).not.toContain(plain);
    expect((await fetch(`${app.baseUrl}${new URL(attachment.url, app.baseUrl).pathname}`, { redirect: 'manual' })).status).toBe(404);

    await revokeFeedToken(app.deps, social.feed._id.toHexString(), new Date());
    expect((await fetch(`${app.baseUrl}/api/feeds/${social.token}/releases.json`)).status).toBe(404);
    expect((await fetch(`${app.baseUrl}/api/feeds/${social.token}/releases.atom`)).status).toBe(404);
    expect((await fetch(`${app.baseUrl}/api/feeds/not-a-token/releases.json`)).status).toBe(404);
  });

  test('when a clip is released and withdrawn, then signed webhooks are delivered, retried after failures, and logged for admins', async () => {
    let secret = '';
    const receiver = await startReceiver(() => secret, 2);
    try {
      const hook = await createWebhook(app.deps, { campaign: 'demo', team: 'Social team', url: receiver.url, use: 'social', createdBy: 'admin' }, new Date());
      secret = hook.secret;
      const pressOnly = await createWebhook(app.deps, { campaign: 'demo', team: 'Press', url: receiver.url, use: 'press', createdBy: 'admin' }, new Date());
      const id = await releasedClip();

      const deliveries = await deps.db.webhookDeliveries.find({ submissionId: id }).lean();
      // One delivery: the press team's hook is not told of a clip not agreed for the press.
      expect(deliveries.map((d) => [d.event, d.webhookId.toHexString()])).toEqual([['release', hook.webhook._id.toHexString()]]);
      const deliveryId = deliveries[0]!._id.toHexString();
      expect(await deps.queue.jobState(`webhook-${deliveryId}`)).toBe('waiting');
      expect(pressOnly.webhook._id).toBeDefined();

      // The queue's retries, one by one (their backoff is the queue's: jobOptions below).
      await expect(deliverWebhook(deps, job('deliver-webhook', { deliveryId }, 1))).rejects.toThrow(/503/);
      await expect(deliverWebhook(deps, job('deliver-webhook', { deliveryId }, 2))).rejects.toThrow(/503/);
      await deliverWebhook(deps, job('deliver-webhook', { deliveryId }, 3));
      await deliverWebhook(deps, job('deliver-webhook', { deliveryId }, 4)); // a duplicate job sends nothing more
      expect(receiver.received.map((r) => [r.valid, r.status])).toEqual([[true, 503], [true, 503], [true, 204]]);
      expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1); // the same body every time, re-signed
      expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ event: 'release', deliveryId, campaign: 'demo', clip: { id, uses: ['social', 'web'] } });
      expect(receiver.received[0]!.body).not.toContain('Test union');
      const logged = (await deps.db.webhookDeliveries.findById(deliveryId).lean())!;
      expect(logged.status).toBe('delivered');
      expect(logged.attempts.map((a) => a.status)).toEqual([503, 503, 204]);

      // A body signed with another secret is refused by the receiver's check.
      secret = 'not-the-secret';
      await withdrawSubmission(app.deps, id, { actor: { id: 'mod', email: null }, by: 'moderator' });
      await takedownSubmission(deps, job('takedown-submission', { submissionId: id }));
      const withdrawal = (await deps.db.webhookDeliveries.findOne({ submissionId: id, event: 'withdrawal' }).lean())!;
      await expect(deliverWebhook(deps, job('deliver-webhook', { deliveryId: withdrawal._id.toHexString() }, 1))).rejects.toThrow(/401/);
      secret = hook.secret;
      await deliverWebhook(deps, job('deliver-webhook', { deliveryId: withdrawal._id.toHexString() }, 2));
      expect(JSON.parse(receiver.received.at(-1)!.body)).toMatchObject({ event: 'withdrawal', clip: { id } });
      expect(receiver.received.at(-1)!.valid).toBe(true);

      // The admins' delivery log.
      const admin = await loginAs(app, clock, await makeStaff(app, clock.now, 'admin'));
      const page = await admin.get('/staff/admin/distribution');
      expect(page.status).toBe(200);
      expect(page.html).toContain(`data-delivery="${deliveryId}" data-status="delivered"`);
      expect(page.html).toContain('503, 503, 204');
      expect(page.html).not.toContain(hook.secret);
      const socialTeam = await loginAs(app, clock, await makeStaff(app, clock.now, 'social'));
      expect((await socialTeam.get('/staff/admin/distribution')).status).toBe(403);
    } finally {
      await receiver.close();
    }
  });

  test('when a delivery keeps failing, then the queue retries it with backoff and it ends as failed in the log', async () => {
    expect(jobOptions('deliver-webhook', { deliveryId: 'x' })).toMatchObject({ attempts: 8, backoff: { type: 'exponential', delay: 10_000 } });
    const receiver = await startReceiver(() => 'never-valid', 99);
    try {
      const { webhook } = await createWebhook(app.deps, { campaign: 'demo', team: 'Down', url: receiver.url, use: 'web', createdBy: 'admin' }, new Date());
      const id = await releasedClip();
      const delivery = (await deps.db.webhookDeliveries.findOne({ webhookId: webhook._id, submissionId: id }).lean())!;
      for (let attempt = 1; attempt < 8; attempt += 1) await expect(deliverWebhook(deps, job('deliver-webhook', { deliveryId: delivery._id.toHexString() }, attempt))).rejects.toThrow();
      const before = await webhookTotals();
      await deliverWebhook(deps, job('deliver-webhook', { deliveryId: delivery._id.toHexString() }, 8)); // the last attempt: recorded, not thrown
      expect((await deps.db.webhookDeliveries.findById(delivery._id).lean())!).toMatchObject({ status: 'failed', attempts: expect.arrayContaining([expect.objectContaining({ status: 401 })]) });
      // Counted for the alerts (WebhookDeliveriesFailing, WebhookDeliveriesGivenUp): one more failed attempt, one delivery given up.
      expect(await webhookTotals()).toEqual({ attempts: before.attempts + 1, givenUp: before.givenUp + 1 });
      expect(takedownJobId(id)).toBe(`takedown-${id}`);
      expect(releaseJobId(id)).toBe(`release-${id}`);
    } finally {
      await receiver.close();
    }
  });

  test('when a webhook points inside (when saved, or at delivery on the address actually connected), then nothing is sent and the log says only "refused" or "failed"', async () => {
    let secret = '';
    const receiver = await startReceiver(() => secret, 0);
    const port = new URL(receiver.url).port;
    const strict = { ...deps, config: { ...deps.config, webhooks: { requireHttps: false, allowLoopback: false } } };
    const answers = (address: string): Lookup => (_host, _options, callback) => callback(null, [{ address, family: 4 }]);
    const input = (url: string) => ({ campaign: 'demo', team: 'Inside', url, use: 'web', createdBy: 'admin' });
    try {
      // Saved: refused by its form or its literal address (the parser has made 2130706433 a dotted quad)…
      for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/', 'http://[::ffff:127.0.0.1]/', 'http://[fd00::1]/', 'http://0x0a000001/', `http://user:pass@127.0.0.1:${port}/hook`]) {
        await expect(createWebhook(app.deps, input(url), new Date())).rejects.toMatchObject({ code: 'webhook_url_refused', status: 400 });
      }
      await expect(createWebhook(strict, input(receiver.url), new Date())).rejects.toMatchObject({ code: 'webhook_url_refused' });
      await expect(createWebhook({ ...strict, config: { ...strict.config, webhooks: { requireHttps: true, allowLoopback: false } } }, input('http://hooks.example.org/x'), new Date(), answers('93.184.216.34'))).rejects.toMatchObject({ code: 'webhook_url_refused' });
      // …or by the address its name resolves to (a lookup answering 10.0.0.1: refused, so nothing is sent there).
      await expect(createWebhook(app.deps, input('http://hooks.example.org/x'), new Date(), answers('10.0.0.1'))).rejects.toMatchObject({ code: 'webhook_url_refused' });
      expect(await deps.db.webhooks.countDocuments({ team: 'Inside' })).toBe(0);
      // The admins' form says why.
      const admin = await loginAs(app, clock, await makeStaff(app, clock.now, 'admin'));
      await admin.get('/staff/admin/distribution');
      const refused = await admin.post('/staff/admin/webhooks', { campaign: 'demo', team: 'Inside', url: 'http://169.254.169.254/', use: 'web' });
      expect(refused.status).toBe(400);
      expect(refused.html).toContain('must be a public address');

      // At delivery: a hook to the receiver (saved where loopback is allowed), sent by a worker where it is not.
      const { webhook, secret: hookSecret } = await createWebhook(app.deps, input(receiver.url), new Date());
      secret = hookSecret;
      const id = await releasedClip();
      const delivery = (await deps.db.webhookDeliveries.findOne({ webhookId: webhook._id, submissionId: id }).lean())!;
      const deliveryId = delivery._id.toHexString();
      const attempt = async (workerDeps: WorkerDeps, resolve?: Lookup) => {
        await deps.db.webhookDeliveries.updateOne({ _id: delivery._id }, { $set: { status: 'pending', attempts: [] } });
        await deliverWebhook(workerDeps, job('deliver-webhook', { deliveryId }, 1), undefined, resolve).catch((error: Error) => error);
        return (await deps.db.webhookDeliveries.findById(delivery._id).lean())!;
      };
      // Refused before any connection, and at once: a retry would not make the address public.
      expect(await attempt(strict)).toMatchObject({ status: 'failed', attempts: [{ status: null, error: 'refused' }] });
      expect(receiver.received).toEqual([]);

      // A name: checked on the addresses it resolves to, and connected to the address that was checked.
      await deps.db.webhooks.updateOne({ _id: webhook._id }, { $set: { url: `http://hooks.example.org:${port}/hook` } });
      expect(await attempt(deps, answers('10.0.0.1'))).toMatchObject({ status: 'failed', attempts: [{ status: null, error: 'refused' }] });
      expect(receiver.received).toEqual([]);
      let lookups = 0;
      const rebinding: Lookup = (host, options, callback) => {
        lookups += 1;
        // The first answer is checked and connected to; a second lookup (which would be a chance to switch) fails.
        if (lookups === 1) answers('127.0.0.1')(host, options, callback);
        else callback(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }), []);
      };
      expect(await attempt(deps, rebinding)).toMatchObject({ status: 'delivered', attempts: [{ status: 204, error: null }] });
      expect(lookups).toBe(1);
      expect(receiver.received.map((r) => [r.host, r.status])).toEqual([[`hooks.example.org:${port}`, 204]]);

      // A receiver that is not there: "failed", not the network's own words (which would map the inside).
      const closed = await startReceiver(() => 'any', 0);
      await closed.close();
      await deps.db.webhooks.updateOne({ _id: webhook._id }, { $set: { url: closed.url } });
      const failedOnce = await attempt(deps);
      expect(failedOnce).toMatchObject({ status: 'pending', attempts: [{ status: null, error: 'failed' }] });
      const page = await admin.get('/staff/admin/distribution');
      expect(page.html).toContain(`data-delivery="${deliveryId}" data-status="pending"`);
      expect(page.html).not.toMatch(/ECONNREFUSED|fetch failed|connect/);
      // A hook saved with credentials before they were refused: they are not shown.
      await deps.db.webhooks.updateOne({ _id: webhook._id }, { $set: { url: `http://user:hunter2@127.0.0.1:${port}/hook` } });
      const shown = await admin.get('/staff/admin/distribution');
      expect(shown.html).toContain(`http://127.0.0.1:${port}/hook`);
      expect(shown.html).not.toContain('hunter2');
    } finally {
      await receiver.close();
    }
  });

  test('when stored text carries characters XML forbids (U+FFFE, U+FFFF, controls, noncharacters), then the Atom feed stays well-formed and keeps the rest of the text', async () => {
    const { token } = await createFeedToken(app.deps, { campaign: 'demo', team: 'Readers', use: 'social', createdBy: 'admin' }, new Date());
    const id = await releasedClip(['record', 'publish', 'risk', 'credit']);
    // As stored before input was cleaned (or by any path that forgets to): the feed must still parse.
    await deps.db.submissions.updateOne({ _id: id }, { $set: { title: 'Ti\uFFFEtle\u0001', message: 'Mes\uFFFFsage\u001B \u{1FFFE}\uFDD0end & <b>', organisation: 'Un\uFFFEion' } });
    const atom = await (await fetch(`${app.baseUrl}/api/feeds/${token}/releases.atom`)).text();
    expect(xmlProblems(atom)).toEqual([]);
    expect(atom).toContain('<title>Title</title>');
    expect(atom).toContain('Message end &amp; &lt;b&gt;');
    expect(atom).toContain('Union');
    const json = (await (await fetch(`${app.baseUrl}/api/feeds/${token}/releases.json`)).json()) as { items: Array<{ id: string }> };
    expect(json.items.map((i) => i.id)).toContain(id);
  });

  test('when an organisation\'s name carries replacement patterns ($&, $`, $\', $$, $1), then the credit line says the name as typed in the gallery, the ZIP and both feeds', async () => {
    const name = "Union $& of $` and $' and $$ and $1";
    const credit = `Video: ${name}`;
    const unescape = (text: string) => text.replace(/&(amp|lt|gt|quot|apos|#39|#x27);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'", '#x27': "'" })[e]!);
    const { token } = await createFeedToken(app.deps, { campaign: 'demo', team: 'Patterns', use: 'social', createdBy: 'admin' }, new Date());
    const id = await releasedClip(['record', 'publish', 'risk', 'credit']);
    await deps.db.submissions.updateOne({ _id: id }, { $set: { organisation: name } });

    const json = (await (await fetch(`${app.baseUrl}/api/feeds/${token}/releases.json`)).json()) as { items: Array<{ id: string; content_text: string; _solidarity: { postTexts: Record<string, string> } }> };
    const item = json.items.find((i) => i.id === id)!;
    expect(item._solidarity.postTexts.en).toBe(`Test\n\n#TradeUnionismIsNotExtremism #Salidarnasc\n\n${credit}`);
    const atom = await (await fetch(`${app.baseUrl}/api/feeds/${token}/releases.atom`)).text();
    expect(xmlProblems(atom)).toEqual([]);
    expect(unescape(atom)).toContain(`Відэа: ${name}`); // the clip's own language (be)

    const social = await loginAs(app, clock, await makeStaff(app, clock.now, 'social', { campaigns: ['demo'] }));
    const gallery = await social.get('/staff/gallery');
    expect(gallery.status).toBe(200);
    expect(unescape(gallery.html)).toContain(credit);

    const zip = await fetch(`${app.baseUrl}/staff/gallery/zip?clip=${id}&shape=vertical`, { headers: { cookie: `staff=${social.session()}` } });
    expect(zip.status).toBe(200);
    const dir = await mkdtemp(join(tmpdir(), 'post-text-zip-'));
    try {
      await writeFile(join(dir, 'a.zip'), Buffer.from(await zip.arrayBuffer()));
      const { stdout } = await promisify(execFile)('unzip', ['-p', join(dir, 'a.zip'), `solidarity-demo-${id}-post-en.txt`]);
      expect(stdout).toContain(credit);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

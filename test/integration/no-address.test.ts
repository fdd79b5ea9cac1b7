import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { releaseJobId, takedownJobId, type QueueJob } from '../../shared/queue/queue';
import { createLogger } from '../../shared/logger';
import type { Submission } from '../../shared/submissions/submission.model';
import { createWebhook } from '../../server/services/distribution.service';
import { CHECKLIST } from '../../server/services/review.service';
import { deliverWebhook } from '../../worker/handlers/deliver-webhook.handler';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { takedownSubmission } from '../../worker/handlers/takedown-submission.handler';
import { smallMp4 } from '../helpers/fixtures';
import { multipartBody } from '../helpers/multipart';
import { loginAs, makeStaff, nextCode, StaffClient, testClock } from '../helpers/staff-client';
import { demoConsent, seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { encodeMetadata, uploadMetadata } from '../helpers/tus-requests';
import { runWorker, workerDeps } from '../helpers/worker-env';

/** The client's own socket address: distinctive, so a match anywhere is this test's. */
const SOCKET = '127.0.0.23';
/** What a proxy in front says of the client (TRUST_PROXY=1: Express's req.ip is the last one), in each form. */
const FORWARDED: Array<Record<string, string>> = [
  { 'X-Forwarded-For': '203.0.113.77' },
  { 'X-Forwarded-For': '198.51.100.9, 203.0.113.78' },
  { 'X-Forwarded-For': '2001:db8::77' },
  { 'X-Forwarded-For': '::ffff:203.0.113.79', 'X-Real-IP': '198.51.100.23', Forwarded: 'for="[2001:db8::78]"' },
];
/** Every address above, as it was given and as a log or a record might write it. */
const ADDRESSES = [SOCKET, '::ffff:127.0.0.23', '203.0.113.7', '198.51.100.9', '198.51.100.23', '2001:db8::7', '2001:0db8'];

let turn = 0;
/** The next X-Forwarded-For variant: each request of the test comes "through the proxy" in another form. */
function forwarded(): Record<string, string> {
  turn += 1;
  return FORWARDED[turn % FORWARDED.length]!;
}

/** One request from the distinctive address, with node:http (fetch cannot bind a local address). */
function send(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const all = { ...forwarded(), ...headers, ...(body ? { 'Content-Length': String(body.length) } : {}) };
    const req = request(url, { method, headers: all, localAddress: SOCKET, agent: false }, (res) => {
      void buffer(res).then((bytes) => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: bytes.toString('utf8') }), reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A logger whose lines the test reads (debug: everything the process says). */
function capturedLogger(name: string) {
  const lines: string[] = [];
  return { logger: createLogger({ level: 'debug', name, destination: { write: (line: string) => void lines.push(line) } }), lines };
}

function job<N extends 'release-submission' | 'takedown-submission' | 'deliver-webhook'>(name: N, payload: QueueJob<N>['payload'], id: string): QueueJob<N> {
  return { id, name, payload, attempt: 1, maxAttempts: 8, reportProgress: async () => undefined };
}

/**
 * No address kept, on any path: a contributor's page, the multipart upload and the resumable one (tus: create,
 * subtitles, PATCH, HEAD, a refusal, DELETE), the status and the withdrawal; staff logins that fail and succeed,
 * a moderator's audited actions, a logout; the worker processing, releasing, delivering a webhook and taking a
 * clip down. Every request comes from 127.0.0.23 through a "proxy" (X-Forwarded-For in several forms). Then every
 * log line of the server and the worker, every document of every collection, every Redis key of the app and
 * every stored object is searched for any of the addresses.
 */
describe('no client address is kept', () => {
  let app: TestApp;
  const server = capturedLogger('server');
  const worker = capturedLogger('worker');
  const clock = testClock();
  let receiver: Server;
  let hookUrl: string;

  beforeAll(async () => {
    app = await startTestApp({ TRUST_PROXY: '1', STAFF_SCRYPT_LOG2_COST: '12', WEBHOOK_ALLOW_LOOPBACK: 'true' }, clock.now, () => ({ logger: server.logger }));
    await seedDemoCampaign(app.deps);
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await app.close();
  });

  test('when every path is taken from a distinctive address through a proxy, then no log line, document, Redis key or stored object holds any form of it', async () => {
    const base = app.baseUrl;
    const clip = await smallMp4();
    const srt = Buffer.from('1\n00:00:00,200 --> 00:00:01,800\nСалідарнасць\n');
    const wdeps = workerDeps(app, { logger: worker.logger });
    await createWebhook(app.deps, { campaign: 'demo', team: 'Social team', url: hookUrl, use: 'social', createdBy: 'admin' }, new Date());

    // The contributors' page and the API it reads.
    expect((await send(`${base}/c/demo`, 'GET', {})).status).toBe(200);
    expect((await send(`${base}/api/campaigns/demo`, 'GET', {})).status).toBe(200);

    // The multipart upload, its status, and a refusal.
    const fields = { campaign: 'demo', organisation: 'Address union', country: 'BY', language: 'be', title: 'Where from', consent: demoConsent('en') };
    const form = multipartBody(fields, [{ field: 'video', filename: 'IMG_2.MOV', content: clip }, { field: 'subtitles', filename: 'IMG_2.srt', content: srt }]);
    const posted = await send(`${base}/api/submissions`, 'POST', { 'Content-Type': form.contentType }, form.body);
    expect(posted.status).toBe(202);
    const receipt = JSON.parse(posted.text) as { id: string; statusToken: string };
    expect((await send(`${base}/api/submissions/${receipt.id}/status`, 'GET', { Authorization: `Bearer ${receipt.statusToken}` })).status).toBe(200);
    const refusedForm = multipartBody(fields, [{ field: 'video', filename: 'x.mp4', content: Buffer.from('<html>not a clip</html>'.repeat(200)) }]);
    expect((await send(`${base}/api/submissions`, 'POST', { 'Content-Type': refusedForm.contentType }, refusedForm.body)).status).toBe(415);

    // The resumable upload, as the page sends it: created, subtitles, bytes, asked about; another refused, another given up.
    const tusCreate = async (size: number, meta: Record<string, string>) => {
      const created = await send(`${base}/tus`, 'POST', { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(size), 'Upload-Metadata': encodeMetadata(meta) });
      expect(created.status).toBe(201);
      return /\/tus\/([a-f0-9]{24})$/.exec(String(created.headers.location))![1]!;
    };
    const patch = (id: string, token: string, offset: number, bytes: Buffer) =>
      send(`${base}/tus/${id}`, 'PATCH', { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${token}`, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' }, bytes);
    const resumable = uploadMetadata({ subtitles: 'follow' });
    const tusId = await tusCreate(clip.length, resumable.metadata);
    expect((await send(`${base}/tus/${tusId}/subtitles`, 'PUT', { Authorization: `Bearer ${resumable.token}` }, srt)).status).toBe(204);
    expect((await patch(tusId, resumable.token, 0, clip.subarray(0, 1000))).status).toBe(204);
    expect((await send(`${base}/tus/${tusId}`, 'HEAD', { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${resumable.token}` })).status).toBe(200);
    expect((await patch(tusId, resumable.token, 1000, clip.subarray(1000))).status).toBe(200); // the last one: the receipt
    expect((await send(`${base}/tus/${tusId}`, 'HEAD', { 'Tus-Resumable': '1.0.0', Authorization: 'Bearer wrong' })).status).toBe(404);
    const html = Buffer.from('<html>not a clip</html>'.repeat(500));
    const refused = uploadMetadata();
    expect((await patch(await tusCreate(html.length, refused.metadata), refused.token, 0, html)).status).toBe(415);
    const givenUp = uploadMetadata();
    const givenUpId = await tusCreate(clip.length, givenUp.metadata);
    expect((await send(`${base}/tus/${givenUpId}`, 'DELETE', { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${givenUp.token}` })).status).toBe(204);
    expect((await app.services.db.submissions.findById(tusId).lean<Submission>())?.status).toBe('received');

    // The worker: both clips processed; one approved, released (the webhook told), the other withdrawn by its contributor and taken down.
    for (const id of [receipt.id, tusId]) expect((await runWorker(wdeps, id)).status).toBe('in_review');

    // Staff: a wrong password, a wrong code, then a moderator's login, audited actions and logout.
    const staff = await makeStaff(app, clock.now, 'moderator', { campaigns: ['demo'] });
    const stranger = new StaffClient(base, { localAddress: SOCKET, headers: forwarded() });
    await stranger.get('/staff/login');
    for (const email of [staff.email, 'nobody@example.org']) expect((await stranger.post('/staff/login', { email, password: 'not the password at all' })).status).toBe(401);
    await stranger.get('/staff/login');
    expect((await stranger.post('/staff/login', { email: staff.email, password: staff.password })).location).toBe('/staff/login/code');
    await stranger.get('/staff/login/code');
    const wrongCode = (await nextCode(app, clock, staff)) === '000000' ? '111111' : '000000';
    expect((await stranger.post('/staff/login/code', { code: wrongCode })).status).toBe(401);
    const moderator = await loginAs(app, clock, staff, { localAddress: SOCKET, headers: forwarded() });
    await moderator.get(`/staff/review/${receipt.id}`);
    expect((await moderator.post(`/staff/review/${receipt.id}/claim`, {})).status).toBe(303);
    await moderator.get(`/staff/review/${receipt.id}`);
    const checklist = Object.fromEntries(CHECKLIST.map((item) => [item, 'clear']));
    expect((await moderator.post(`/staff/review/${receipt.id}/approve`, checklist)).status).toBe(303);
    expect((await app.services.db.submissions.findById(receipt.id).lean<Submission>())!.status).toBe('approved');
    await moderator.get('/staff');
    expect((await moderator.post('/staff/logout', {})).status).toBe(303);

    await releaseSubmission(wdeps, job('release-submission', { submissionId: receipt.id }, releaseJobId(receipt.id)));
    expect((await send(`${base}/api/submissions/${tusId}/withdraw`, 'POST', { Authorization: `Bearer ${resumable.token}` })).status).toBe(200);
    await takedownSubmission(wdeps, job('takedown-submission', { submissionId: tusId }, takedownJobId(tusId)));
    const deliveries = await app.services.db.webhookDeliveries.find().lean();
    expect(deliveries.length).toBeGreaterThan(0);
    for (const delivery of deliveries) {
      const deliveryId = delivery._id.toHexString();
      await deliverWebhook(wdeps, job('deliver-webhook', { deliveryId }, `webhook-${deliveryId}`));
    }

    // The request lines are written when each response closes: wait for the last one (the logout).
    const deadline = Date.now() + 5000;
    while (!server.lines.some((l) => l.includes('"route":"/staff/logout"')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

    // Everything that was said and kept, searched for every form of every address.
    const found: string[] = [];
    const search = (where: string, text: string) => {
      for (const address of ADDRESSES) if (text.includes(address)) found.push(`${where}: ${address}`);
    };
    server.lines.forEach((line, i) => search(`server log line ${i}`, line));
    worker.lines.forEach((line, i) => search(`worker log line ${i}`, line));
    const db = app.services.db.connection.db!;
    const collections = (await db.listCollections().toArray()).map((c) => c.name).sort();
    for (const name of collections) {
      for (const doc of await db.collection(name).find().toArray()) search(`${name} ${String(doc._id)}`, JSON.stringify(doc));
    }
    const redis = app.services.redis;
    const keys = await redis.keys(`${app.config.redis.queuePrefix}*`);
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === 'string' ? await redis.get(key)
        : type === 'hash' ? JSON.stringify(await redis.hgetall(key))
        : type === 'list' ? JSON.stringify(await redis.lrange(key, 0, -1))
        : type === 'set' ? JSON.stringify(await redis.smembers(key))
        : type === 'zset' ? JSON.stringify(await redis.zrange(key, 0, -1))
        : '';
      search(`redis ${key}`, `${key} ${value ?? ''}`);
    }
    const objects = await app.services.storage.list('');
    for (const key of objects) search(`object ${key}`, `${key} ${(await buffer(await app.services.storage.download(key))).toString('latin1')}`);
    expect(found).toEqual([]);

    // The search had something to search: every path logged, every kind of record was written.
    const routes = new Set(server.lines.map((l) => (JSON.parse(l) as { route?: string }).route));
    for (const route of ['/c/:slug', '/api/submissions', '/api/submissions/:id/status', '/api/submissions/:id/withdraw', '/staff/login', '/staff/login/code', '/staff/logout']) expect(routes).toContain(route);
    expect(server.lines.filter((l) => l.includes('"route":"/tus')).length).toBeGreaterThanOrEqual(6);
    for (const id of [receipt.id, tusId]) expect(worker.lines.filter((l) => l.includes(id)).length).toBeGreaterThanOrEqual(2);
    expect(collections).toEqual(expect.arrayContaining(['audit_entries', 'submissions', 'webhook_deliveries', 'staff_users', 'review_claims']));
    const actions = (await app.services.db.auditEntries.find().lean()).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['login', 'login_failed', 'logout']));
    expect(keys.some((key) => key.includes(':staff-session'))).toBe(true);
    expect(objects.length).toBeGreaterThan(5);
  });
});

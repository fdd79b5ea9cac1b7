import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Submission } from '../../shared/submissions/submission.model';
import { smallMp4 } from '../helpers/fixtures';
import { multipartBody } from '../helpers/multipart';
import { demoConsent, seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { createUpload, headUpload, rawPatch, rawRequest, uploadMetadata } from '../helpers/tus-requests';
import { waitUntil } from '../helpers/wait-until';

const ROOT = join(__dirname, '..', '..');

/**
 * Graceful shutdown (issue 19, item 5): a stopping server says 503 on /readyz, refuses new uploads and new parts
 * with a retryable 503 `server_stopping` (a resumable upload carries on elsewhere from its offset), finishes the
 * uploads already arriving, stores nothing half, and exits. First on the app in this process, then on a real
 * server process sent SIGTERM in the middle of an upload.
 */
describe('a server that stops', () => {
  let app: TestApp;
  let video: Buffer;
  const fields = () => ({ campaign: 'demo', organisation: 'BNP', country: 'BY', language: 'be', title: 'Салідарнасць', consent: demoConsent('be') });

  beforeAll(async () => {
    app = await startTestApp();
    await seedDemoCampaign(app.deps);
    video = await smallMp4();
  });

  afterAll(async () => {
    await app?.close();
  });

  test('when stopping, then /readyz says 503, a new upload and a new part are refused with Retry-After (nothing stored), other pages are served, and a resumable upload carries on afterwards from its offset', async () => {
    const lifecycle = app.deps.lifecycle!;
    const { metadata } = uploadMetadata();
    const created = await createUpload(app.baseUrl, video.length, metadata);
    expect(created.status).toBe(201);
    const half = Math.floor(video.length / 2);
    expect((await rawPatch(app.baseUrl, created.id!, 0, video.subarray(0, half)).answer).status).toBe(204);
    const originalsBefore = await app.services.storage.list('originals/');
    const submissionsBefore = await app.services.db.submissions.countDocuments();

    lifecycle.stopping = true;
    try {
      const ready = await fetch(`${app.baseUrl}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'stopping' });

      const { body, contentType } = multipartBody(fields(), [{ field: 'video', filename: 'clip.mp4', content: video }]);
      const multipart = await fetch(`${app.baseUrl}/api/submissions`, { method: 'POST', headers: { 'content-type': contentType }, body: new Blob([new Uint8Array(body)]) });
      expect(multipart.status).toBe(503);
      expect(multipart.headers.get('retry-after')).toBe('5');
      expect(multipart.headers.get('connection')).toBe('close');
      expect(await multipart.json()).toMatchObject({ status: 503, type: 'urn:solidarity-clips:problem:server_stopping' });

      const another = await createUpload(app.baseUrl, video.length, uploadMetadata().metadata);
      expect(another.status).toBe(503);
      const part = await rawPatch(app.baseUrl, created.id!, half, video.subarray(half)).answer;
      expect({ status: part.status, retryAfter: part.headers['retry-after'] }).toEqual({ status: 503, retryAfter: '5' });
      expect((await headUpload(app.baseUrl, created.id!)).offset).toBe(half);

      const page = await fetch(`${app.baseUrl}/c/demo`);
      expect(page.status).toBe(200);
      expect(page.headers.get('connection')).toBe('close');
      expect(await app.services.storage.list('originals/')).toEqual(originalsBefore);
      expect(await app.services.db.submissions.countDocuments()).toBe(submissionsBefore);
    } finally {
      lifecycle.stopping = false;
    }
    // Another instance (here: the same one, running again) takes the rest from the offset stored in S3.
    const rest = await rawPatch(app.baseUrl, created.id!, half, video.subarray(half)).answer;
    // The last PATCH answers 200 with the submission made from the whole upload.
    expect(rest.status).toBe(200);
    const { id } = JSON.parse(rest.body) as { id: string };
    expect((await app.services.db.submissions.findById(id).lean<Submission>())!.original.sha256).toBe(createHash('sha256').update(video).digest('hex'));
  }, 60_000);

  test('when a real server process gets SIGTERM in the middle of an upload, then new uploads are refused while it drains, the upload in flight is stored whole, and the process exits 0', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server: ChildProcess = spawn(process.execPath, [join(ROOT, 'dist', 'server', 'main.js')], {
      env: { ...app.env, PORT: String(port), SHUTDOWN_DRAIN_SECONDS: '3', SHUTDOWN_GRACE_SECONDS: '30' },
      stdio: ['ignore', process.env.TEST_LOG_LEVEL ? 'inherit' : 'ignore', 'inherit'],
    });
    try {
      await waitUntil(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, { timeoutMs: 30_000, what: 'the server process ready' });
      const { body, contentType } = multipartBody(fields(), [{ field: 'video', filename: 'in-flight.mp4', content: video }]);
      const cut = body.length - 2048;
      const inFlight = rawRequest(`${base}/api/submissions`, { method: 'POST', headers: { 'Content-Type': contentType }, declared: body.length, first: body.subarray(0, cut) });
      await inFlight.written;
      // The server must have taken the request in before the signal (a request it reads after it is a new
      // upload, refused with 503 server_stopping): written to the socket is not read by the server yet.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const exited = once(server, 'exit');
      server.kill('SIGTERM');

      await waitUntil(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 503, { timeoutMs: 5_000, what: '/readyz saying 503' });
      const refused = multipartBody(fields(), [{ field: 'video', filename: 'new.mp4', content: video }]);
      const late = await fetch(`${base}/api/submissions`, { method: 'POST', headers: { 'content-type': refused.contentType }, body: new Blob([new Uint8Array(refused.body)]) });
      expect({ status: late.status, retryAfter: late.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: '5' });

      // The rest of the upload in flight arrives after the drain: it is still taken, and stored whole.
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      await inFlight.write(body.subarray(cut));
      const answer = await inFlight.answer;
      expect(answer.status).toBe(202);
      const { id } = JSON.parse(answer.body) as { id: string };
      const stored = (await app.services.db.submissions.findById(id).lean<Submission>())!;
      expect(stored.original.sha256).toBe(createHash('sha256').update(video).digest('hex'));
      expect(stored.original.bytes).toBe(video.length);

      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      // Gone: no new connection is taken.
      expect(await fetch(`${base}/healthz`).then(() => 'answered', () => 'refused')).toBe('refused');
    } finally {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    }
  }, 90_000);
});

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return port;
}

import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as tus from 'tus-js-client';
import { createApp } from '../../server/app';
import { RedisLocker } from '../../server/upload/redis-locker';
import { tusDatastore } from '../../server/upload/tus-upload';
import type { Submission } from '../../shared/submissions/submission.model';
import { smallMp4 } from '../helpers/fixtures';
import { expectNothingLeft } from '../helpers/nothing-left';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { createUpload, headUpload, ownerHeaders, ownerHeadersOf, tusHeaders, uploadMetadata } from '../helpers/tus-requests';
import { waitUntil } from '../helpers/wait-until';

/** Resumable uploads (tus) against the real server, Redis and S3, driven by tus-js-client as the page drives it. */
describe('resumable uploads (tus)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ UPLOAD_PART_BYTES: String(5 * 1024 * 1024) });
    await seedDemoCampaign(app.deps);
  });

  afterAll(async () => {
    await app.close();
  });

  /** A valid upload's metadata, with the filename tus clients add (never stored). */
  const metadata = (overrides: Record<string, string> = {}) => uploadMetadata({ filename: 'VID_secret_name.mp4', ...overrides });

  function send(body: Buffer, meta: Record<string, string>, chunkSize = 5 * 1024 * 1024) {
    return new Promise<{ url: string; body: string }>((resolve, reject) => {
      const upload = new tus.Upload(body, {
        endpoint: `${app.baseUrl}/tus`,
        metadata: meta,
        headers: ownerHeadersOf(meta),
        chunkSize,
        retryDelays: [],
        onSuccess: (payload) => resolve({ url: upload.url!, body: payload.lastResponse.getBody() }),
        onError: (error) => reject(error),
      });
      upload.start();
    });
  }

  async function problemOf(promise: Promise<unknown>) {
    const error = (await promise.then(() => null, (e: unknown) => e)) as tus.DetailedError | null;
    expect(error).not.toBeNull();
    const response = error!.originalResponse!;
    return { status: response.getStatus(), ...(JSON.parse(response.getBody()) as { code: string }) };
  }

  test('when a clip is sent with tus, then it ends as the multipart API ends: a received submission with its size and SHA-256, the status token known only to the page', async () => {
    const clip = await smallMp4();
    const { token, metadata: meta } = metadata();
    const result = await send(clip, meta, 64 * 1024);
    const id = /\/tus\/([a-f0-9]{24})$/.exec(result.url)![1]!;
    expect(JSON.parse(result.body)).toMatchObject({ id, status: 'received' });
    const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    expect(doc).toMatchObject({ status: 'received', organisation: 'BNP', country: 'BY', language: 'be' });
    expect(doc.original).toMatchObject({ key: `originals/${id}/video`, bytes: clip.length, sha256: createHash('sha256').update(clip).digest('hex'), contentType: 'video/mp4' });
    expect(JSON.stringify(doc)).not.toContain('VID_secret_name');
    const status = await fetch(`${app.baseUrl}/api/submissions/${id}/status`, { headers: { Authorization: `Bearer ${token}` } });
    expect(status.status).toBe(200);
    expect(((await status.json()) as { status: string }).status).toBe('received');
  });

  test.each([
    ['a closed campaign', { campaign: 'closed-one' }, 403, 'campaign_closed'],
    ['consent not complete', { consent: JSON.stringify({ version: 1, language: 'be', statements: ['record'] }) }, 400, 'consent_incomplete'],
    ['a missing title', { title: '' }, 400, 'invalid_fields'],
    ['no status token hash', { statusTokenHash: 'x' }, 400, 'invalid_fields'],
    ['the honeypot filled', { website: 'spam' }, 400, 'rejected'],
  ])('when an upload is created with %s, then it is refused before any byte of the clip is sent', async (_what, overrides, status, code) => {
    await seedDemoCampaign(app.deps, { slug: 'closed-one', status: 'closed' }).catch(() => undefined);
    const problem = await problemOf(send(await smallMp4(), metadata(overrides).metadata));
    expect(problem).toMatchObject({ status, code });
  });

  test('when the declared size is over the limit, then creation is refused with file_too_large', async () => {
    const response = await fetch(`${app.baseUrl}/tus`, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(app.config.upload.maxBytes + 1) },
    });
    expect(response.status).toBe(413);
  });

  test('when the bytes are not a video, then the finished upload is refused with the same error as the multipart API, and nothing stays in the bucket', async () => {
    const before = await app.services.db.submissions.countDocuments();
    const problem = await problemOf(send(Buffer.from('<html>not a clip</html>'.repeat(500)), metadata().metadata));
    expect(problem).toMatchObject({ status: 415, code: 'unsupported_file_type' });
    expect(await app.services.db.submissions.countDocuments()).toBe(before);
    const leftovers = await app.services.storage.list('originals/');
    const ids = new Set((await app.services.db.submissions.find().lean<Submission[]>()).map((s) => s._id.toHexString()));
    expect(leftovers.filter((key) => !ids.has(key.split('/')[1]!))).toEqual([]);
  });

  const MiB = 1024 * 1024;
  async function create(base: string, size: number, meta: Record<string, string>): Promise<string> {
    const created = await createUpload(base, size, meta);
    expect(created.status).toBe(201);
    return created.id!;
  }

  async function patch(base: string, id: string, offset: number, body: Buffer) {
    const response = await fetch(`${base}/tus/${id}`, {
      method: 'PATCH',
      headers: { ...tusHeaders, ...ownerHeaders(id), 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
      body: new Uint8Array(body),
    });
    return { status: response.status, offset: Number(response.headers.get('upload-offset')), body: await response.text() };
  }

  async function offsetOf(base: string, id: string): Promise<number> {
    return (await headUpload(base, id)).offset;
  }

  /** A PATCH whose body is written only in part: resolves with the answer if one comes while the rest is awaited. */
  function partialPatch(base: string, id: string, declared: number, first: Buffer) {
    const url = new URL(`${base}/tus/${id}`);
    const req = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'PATCH',
      headers: { ...tusHeaders, ...ownerHeaders(id), 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(declared) },
    });
    req.on('error', () => undefined);
    const answer = new Promise<{ status: number; body: string }>((resolve) => {
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
        res.on('error', () => resolve({ status: res.statusCode!, body }));
      });
    });
    const written = new Promise<void>((resolve) => req.write(first, () => resolve()));
    return { req, answer, written };
  }

  async function storedFor(id: string) {
    return app.services.storage.list(`originals/${id}`);
  }

  test('when a file that is not a video is sent in one long request, then it is refused after its first bytes, while the rest is still awaited, and nothing of it stays', async () => {
    const id = await create(app.baseUrl, 50 * MiB, metadata().metadata);
    const { req, answer } = partialPatch(app.baseUrl, id, 50 * MiB, Buffer.from('<html>not a clip</html>'.repeat(3000)));
    const problem = await answer;
    req.destroy();
    expect(problem.status).toBe(415);
    expect(JSON.parse(problem.body)).toMatchObject({ code: 'unsupported_file_type' });
    await expectNothingLeft(app, id, 'none');
  });

  test('when a request about an upload comes without its status token, with a wrong one or with another upload’s, then HEAD, PATCH, DELETE and GET are each answered 404 upload_not_found, as for an unknown id, and the upload is untouched', async () => {
    const clip = await smallMp4();
    const mine = uploadMetadata();
    const id = await create(app.baseUrl, clip.length, mine.metadata);
    expect((await patch(app.baseUrl, id, 0, clip.subarray(0, 1000))).status).toBe(204);
    const other = uploadMetadata();
    await create(app.baseUrl, clip.length, other.metadata);
    const strangers: Record<string, Record<string, string>> = {
      none: {},
      wrong: { Authorization: `Bearer ${randomBytes(32).toString('base64url')}` },
      "another upload's": { Authorization: `Bearer ${other.token}` },
      'not Bearer': { Authorization: mine.token },
    };
    const requests: Record<string, (headers: Record<string, string>, target: string) => Promise<Response>> = {
      HEAD: (headers, target) => fetch(`${app.baseUrl}/tus/${target}`, { method: 'HEAD', headers: { ...tusHeaders, ...headers } }),
      PATCH: (headers, target) =>
        fetch(`${app.baseUrl}/tus/${target}`, {
          method: 'PATCH',
          headers: { ...tusHeaders, ...headers, 'Upload-Offset': '1000', 'Content-Type': 'application/offset+octet-stream' },
          body: new Uint8Array(randomBytes(500)),
        }),
      DELETE: (headers, target) => fetch(`${app.baseUrl}/tus/${target}`, { method: 'DELETE', headers: { ...tusHeaders, ...headers } }),
      // tus's GET serves an upload's bytes.
      GET: (headers, target) => fetch(`${app.baseUrl}/tus/${target}`, { headers: { ...tusHeaders, ...headers } }),
    };
    const answers: Record<string, string> = {};
    for (const [method, send] of Object.entries(requests)) {
      for (const [who, headers] of Object.entries(strangers)) {
        const response = await send(headers, id);
        answers[`${method} ${who}`] = `${response.status} ${method === 'HEAD' ? '' : ((JSON.parse(await response.text()) as { code?: string }).code ?? '')}`;
        expect(response.headers.get('upload-metadata')).toBeNull();
        expect(response.headers.get('upload-offset')).toBeNull();
      }
      // An unknown id is answered the same way, with or without a token.
      const unknown = await send({ Authorization: `Bearer ${mine.token}` }, 'a'.repeat(24));
      answers[`${method} unknown`] = `${unknown.status} ${method === 'HEAD' ? '' : ((JSON.parse(await unknown.text()) as { code?: string }).code ?? '')}`;
    }
    for (const [request, answer] of Object.entries(answers)) expect({ request, answer }).toEqual({ request, answer: request.startsWith('HEAD') ? '404 ' : '404 upload_not_found' });
    // Untouched: its owner finds it where it was, and completes it.
    const head = await fetch(`${app.baseUrl}/tus/${id}`, { method: 'HEAD', headers: { ...tusHeaders, Authorization: `Bearer ${mine.token}` } });
    expect({ status: head.status, offset: head.headers.get('upload-offset') }).toEqual({ status: 200, offset: '1000' });
    expect((await patch(app.baseUrl, id, 1000, clip.subarray(1000))).status).toBe(200);
  });

  test('when a request breaks off, then what arrived is kept and the upload continues from there to the same SHA-256', async () => {
    const clip = Buffer.concat([await smallMp4(), randomBytes(12 * MiB)]);
    const { metadata: meta } = metadata();
    const id = await create(app.baseUrl, clip.length, meta);
    const { req, written } = partialPatch(app.baseUrl, id, clip.length, clip.subarray(0, 7 * MiB));
    await written;
    req.destroy();
    // The offset settles once the broken request has stored what it read (the HEAD waits for its lock).
    const offset = await waitUntil(async () => {
      const first = await offsetOf(app.baseUrl, id);
      return first > 0 && first === (await offsetOf(app.baseUrl, id)) ? first : null;
    }, { timeoutMs: 10_000, what: 'the offset settles' });
    // More than the whole parts: the incomplete tail was kept too.
    expect(offset).toBeGreaterThan(5 * MiB);
    expect(offset).toBeLessThanOrEqual(7 * MiB);
    const rest = await patch(app.baseUrl, id, offset, clip.subarray(offset));
    expect(rest.status).toBe(200);
    const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    expect(doc.original).toMatchObject({ bytes: clip.length, sha256: createHash('sha256').update(clip).digest('hex'), contentType: 'video/mp4' });
    expect((await storedFor(id)).sort()).toEqual([`originals/${id}/video`, `originals/${id}/video.info`]);
  });

  test('when an upload is continued by another server process, then it is checked by reading it back, to the same SHA-256', async () => {
    const other = createApp(app.deps).listen(0, '127.0.0.1');
    await once(other, 'listening');
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      const clip = Buffer.concat([await smallMp4(), randomBytes(6 * MiB)]);
      const id = await create(app.baseUrl, clip.length, metadata().metadata);
      const first = await patch(app.baseUrl, id, 0, clip.subarray(0, 5 * MiB));
      expect(first).toMatchObject({ status: 204, offset: 5 * MiB });
      const rest = await patch(otherUrl, id, first.offset, clip.subarray(first.offset));
      expect(rest.status).toBe(200);
      const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
      expect(doc.original).toMatchObject({ bytes: clip.length, sha256: createHash('sha256').update(clip).digest('hex'), contentType: 'video/mp4' });

      // A clip that is not a video, started here and finished there: refused at the end, nothing stays.
      const html = Buffer.from('<html>not a clip</html>'.repeat(300_000));
      const bad = await create(app.baseUrl, html.length, metadata().metadata);
      // The first request is too short to judge (a head of 4 KiB is needed): it is stored.
      expect(await patch(app.baseUrl, bad, 0, html.subarray(0, 100))).toMatchObject({ status: 204, offset: 100 });
      const refused = await patch(otherUrl, bad, 100, html.subarray(100));
      expect(refused.status).toBe(415);
      await expectNothingLeft(app, bad, 'none');
    } finally {
      other.closeAllConnections();
      other.close();
    }
  });

  const SRT = Buffer.from('1\n00:00:00,000 --> 00:00:01,000\nСалідарнасць\n', 'utf8');

  async function putSubtitles(id: string, token: string, body: Buffer) {
    const response = await fetch(`${app.baseUrl}/tus/${id}/subtitles`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' },
      body: new Uint8Array(body),
    });
    const text = await response.text();
    return { status: response.status, code: text ? (JSON.parse(text) as { code?: string }).code : undefined };
  }

  test('when subtitles are announced and sent beside the clip, then the submission has them, checked as the multipart API checks them', async () => {
    const clip = await smallMp4();
    const { token, metadata: meta } = metadata({ subtitles: 'follow' });
    const id = await create(app.baseUrl, clip.length, meta);
    expect(await putSubtitles(id, token, SRT)).toMatchObject({ status: 204 });
    expect((await patch(app.baseUrl, id, 0, clip)).status).toBe(200);
    const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    expect(doc.subtitles).toMatchObject({ key: `originals/${id}/subtitles`, bytes: SRT.length, sha256: createHash('sha256').update(SRT).digest('hex') });
    // Once the clip has arrived, its subtitles no longer change.
    expect(await putSubtitles(id, token, SRT)).toMatchObject({ status: 409, code: 'upload_finished' });
  });

  test.each([
    ['another token', { token: 'x'.repeat(43) }, 404, 'upload_not_found'],
    ['not text', { body: Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypisom'), Buffer.alloc(5000)]) }, 415, 'unsupported_subtitle_type'],
    ['over the size limit', { body: Buffer.alloc(1024 * 1024 + 1, 0x41) }, 413, 'subtitle_too_large'],
    ['an upload that did not announce them', { announce: false }, 409, 'subtitles_not_announced'],
  ])('when a subtitle file comes with %s, then it is refused and not stored', async (_what, options: { token?: string; body?: Buffer; announce?: boolean }, status, code) => {
    const clip = await smallMp4();
    const { token, metadata: meta } = metadata(options.announce === false ? {} : { subtitles: 'follow' });
    const id = await create(app.baseUrl, clip.length, meta);
    expect(await putSubtitles(id, options.token ?? token, options.body ?? SRT)).toEqual({ status, code });
    expect(await storedFor(id)).not.toContain(`originals/${id}/subtitles`);
  });

  test('when a subtitle upload is cut off, then it can be sent again, and the file that arrived whole is the one the submission has', async () => {
    const clip = await smallMp4();
    const { token, metadata: meta } = metadata({ subtitles: 'follow' });
    const id = await create(app.baseUrl, clip.length, meta);
    const url = new URL(`${app.baseUrl}/tus/${id}/subtitles`);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Length': String(SRT.length * 10) } });
    req.on('error', () => undefined);
    const closed = new Promise((resolve) => req.once('close', resolve));
    await new Promise<void>((resolve) => req.write(SRT, () => resolve()));
    req.destroy();
    await closed;
    expect(await putSubtitles(id, token, SRT)).toMatchObject({ status: 204 });
    expect((await patch(app.baseUrl, id, 0, clip)).status).toBe(200);
    const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    expect(doc.subtitles).toMatchObject({ bytes: SRT.length });
  });

  test('when announced subtitles never came, then the finished clip is refused with subtitles_missing and nothing stays', async () => {
    const clip = await smallMp4();
    const id = await create(app.baseUrl, clip.length, metadata({ subtitles: 'follow' }).metadata);
    const finished = await patch(app.baseUrl, id, 0, clip);
    expect(finished.status).toBe(400);
    expect(JSON.parse(finished.body)).toMatchObject({ code: 'subtitles_missing' });
    await expectNothingLeft(app, id, 'none');
  });

  test('when an upload with subtitles is refused (not a video), then its subtitle file goes too', async () => {
    const html = Buffer.from('<html>not a clip</html>'.repeat(500));
    const { token, metadata: meta } = metadata({ subtitles: 'follow' });
    const id = await create(app.baseUrl, html.length, meta);
    expect(await putSubtitles(id, token, SRT)).toMatchObject({ status: 204 });
    expect((await patch(app.baseUrl, id, 0, html)).status).toBe(415);
    await expectNothingLeft(app, id, 'none');
  });

  test('when an unfinished upload expires, then the clean-up removes it with its incomplete part and its subtitle file', async () => {
    const clip = await smallMp4();
    const { token, metadata: meta } = metadata({ subtitles: 'follow' });
    const id = await create(app.baseUrl, clip.length, meta);
    expect(await putSubtitles(id, token, SRT)).toMatchObject({ status: 204 });
    expect(await patch(app.baseUrl, id, 0, clip.subarray(0, 100))).toMatchObject({ status: 204, offset: 100 });
    expect((await storedFor(id)).sort()).toEqual([`originals/${id}/subtitles`, `originals/${id}/video.info`, `originals/${id}/video.part`]);
    // The same datastore with an expiry of 1 ms (the configuration's minimum is a minute).
    const expiring = tusDatastore(app.deps, 1);
    await expiring.deleteExpired();
    // Nothing: no object (.info, .part, subtitles), and no open multipart upload holding its parts.
    await expectNothingLeft(app, id, 'none');
    expect((await fetch(`${app.baseUrl}/tus/${id}`, { method: 'HEAD', headers: { ...tusHeaders, ...ownerHeaders(id) } })).status).toBe(404);
  });

  test('when the page gives an unfinished upload up (tus DELETE), then nothing of it stays: no object, no open multipart upload, no subtitle file', async () => {
    const clip = await smallMp4();
    const { token, metadata: meta } = metadata({ subtitles: 'follow' });
    const id = await create(app.baseUrl, clip.length, meta);
    expect(await putSubtitles(id, token, SRT)).toMatchObject({ status: 204 });
    expect(await patch(app.baseUrl, id, 0, clip.subarray(0, 100))).toMatchObject({ status: 204, offset: 100 });
    const deleted = await fetch(`${app.baseUrl}/tus/${id}`, { method: 'DELETE', headers: { ...tusHeaders, ...ownerHeaders(id) } });
    expect(deleted.status).toBe(204);
    await expectNothingLeft(app, id, 'none');
  });

  test('when two lockers (two server processes) want one upload, then the second asks the first to let go and takes it only after', async () => {
    const prefix = `locktest${Date.now()}`;
    const a = new RedisLocker(app.services.redis, { prefix, acquireTimeoutMs: 3000 });
    const other = app.services.redis.duplicate({ lazyConnect: true, enableOfflineQueue: true });
    await other.connect();
    const b = new RedisLocker(other, { prefix, acquireTimeoutMs: 3000 });
    const events: string[] = [];
    const lockA = a.newLock('upload-1');
    let asked = false;
    await lockA.lock(new AbortController().signal, async () => {
      // Asked again while letting go (tus's own release is idempotent): counted once.
      if (asked) return;
      asked = true;
      events.push('a asked to release');
      await new Promise((resolve) => setTimeout(resolve, 100));
      events.push('a unlocks');
      await lockA.unlock();
    });
    const lockB = b.newLock('upload-1');
    await lockB.lock(new AbortController().signal, () => undefined);
    events.push('b holds');
    expect(events).toEqual(['a asked to release', 'a unlocks', 'b holds']);
    // While b holds it and does not let go, a gives up after its timeout.
    const lockA2 = a.newLock('upload-1');
    const started = Date.now();
    await expect(lockA2.lock(new AbortController().signal, () => undefined)).rejects.toMatchObject({ status_code: 500 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
    await lockB.unlock();
    await a.close();
    await b.close();
    other.disconnect();
  }, 20_000);
});

import { createHash, randomBytes } from 'node:crypto';
import * as tus from 'tus-js-client';
import { RedisLocker } from '../../server/upload/redis-locker';
import type { Submission } from '../../shared/submissions/submission.model';
import { smallMp4 } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

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

  function metadata(overrides: Record<string, string> = {}) {
    const token = randomBytes(32).toString('base64url');
    const statusTokenHash = createHash('sha256').update(token).digest('hex');
    return {
      token,
      metadata: {
        campaign: 'demo',
        organisation: 'BNP',
        country: 'BY',
        language: 'be',
        title: 'Салідарнасць',
        consent: JSON.stringify({ version: 1, language: 'be', statements: ['record', 'publish', 'risk'] }),
        statusTokenHash,
        filename: 'VID_secret_name.mp4',
        ...overrides,
      },
    };
  }

  function send(body: Buffer, meta: Record<string, string>, chunkSize = 5 * 1024 * 1024) {
    return new Promise<{ url: string; body: string }>((resolve, reject) => {
      const upload = new tus.Upload(body, {
        endpoint: `${app.baseUrl}/tus`,
        metadata: meta,
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

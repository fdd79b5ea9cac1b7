import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalMinio } from '../../infra/local/services';
import { originalKey } from '../../shared/storage/keys';
import type { Submission } from '../../shared/submissions/submission.model';
import { smallMp4 } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { createUpload, headUpload, rawPatch, rawRequest, uploadMetadata } from '../helpers/tus-requests';

const MiB = 1024 * 1024;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A clip of `extra` MiB more than the small test clip (the first bytes are a real MP4's). */
async function clipOf(extraMiB: number): Promise<Buffer> {
  return Buffer.concat([await smallMp4(), randomBytes(extraMiB * MiB)]);
}

describe('a resumable upload that stalls or trickles is cut off after UPLOAD_IDLE_SECONDS', () => {
  const IDLE = 1;
  let app: TestApp;

  beforeAll(async () => {
    // One slot: a stalled request that kept its slot would make the next one 503.
    app = await startTestApp({ UPLOAD_IDLE_SECONDS: String(IDLE), UPLOAD_PART_BYTES: String(5 * MiB), UPLOAD_MAX_IN_FLIGHT: '1' });
    await seedDemoCampaign(app.deps);
  });
  afterAll(async () => {
    await app.close();
  });

  test('when a PATCH sends half the clip and then trickles, then it is answered 408 upload_stalled after the idle time, what arrived is kept, the lock and the slot are freed, and the client completes to the right SHA-256', async () => {
    const clip = await clipOf(11);
    const half = 6 * MiB;
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    const patch = rawPatch(app.baseUrl, id!, 0, clip.subarray(0, half), { declared: clip.length, trickle: clip.subarray(half), trickleEveryMs: 100 });
    await patch.written;
    const trickling = Date.now();
    const answer = await patch.answer;
    patch.stop();
    expect({ status: answer.status, code: (JSON.parse(answer.body) as { code: string }).code }).toEqual({ status: 408, code: 'upload_stalled' });
    // Cut after the idle time (one period, at most two, after the trickle began), not before.
    expect(Date.now() - trickling).toBeGreaterThanOrEqual(IDLE * 1000 - 100);
    expect(Date.now() - trickling).toBeLessThan(IDLE * 1000 * 3 + 3000);
    expect(answer.headers.connection).toBe('close');

    // What arrived is kept: the whole part and the incomplete tail, trickled bytes included.
    const kept = await headUpload(app.baseUrl, id!);
    expect(kept.status).toBe(200);
    expect(kept.offset).toBeGreaterThanOrEqual(half);
    expect(kept.offset).toBeLessThanOrEqual(answer.sent);
    // The lock is given back (no Redis key left), and so is the slot (the next PATCH is taken, not 503).
    expect(await app.services.redis.exists(`${app.config.redis.queuePrefix}:tus-lock:${originalKey(id!)}`)).toBe(0);
    const rest = rawPatch(app.baseUrl, id!, kept.offset, clip.subarray(kept.offset));
    expect((await rest.answer).status).toBe(200);
    const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    expect(doc.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip), contentType: 'video/mp4' });
  }, 30_000);

  test('when a subtitle PUT trickles, then it is answered 408 upload_stalled, nothing of it is stored, and the file can be sent again', async () => {
    const srt = Buffer.from('1\n00:00:00,000 --> 00:00:01,000\nСалідарнасць\n'.repeat(200), 'utf8');
    const { token, metadata } = uploadMetadata({ subtitles: 'follow' });
    const clip = await smallMp4();
    const { id } = await createUpload(app.baseUrl, clip.length, metadata);
    const put = rawRequest(`${app.baseUrl}/tus/${id}/subtitles`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' },
      declared: srt.length,
      first: srt.subarray(0, 4096),
      trickle: srt.subarray(4096),
      trickleEveryMs: 100,
    });
    const answer = await put.answer;
    put.stop();
    expect({ status: answer.status, code: (JSON.parse(answer.body) as { code: string }).code }).toEqual({ status: 408, code: 'upload_stalled' });
    expect(await app.services.storage.list(`originals/${id}/subtitles`)).toEqual([]);
    const again = await fetch(`${app.baseUrl}/tus/${id}/subtitles`, { method: 'PUT', headers: { Authorization: `Bearer ${token}` }, body: new Uint8Array(srt) });
    expect(again.status).toBe(204);
  }, 30_000);
});

describe('a resumable upload while S3 is down (a real MinIO stopped and started again)', () => {
  let dataDir: string;
  let minio: Awaited<ReturnType<typeof startLocalMinio>>;
  let app: TestApp;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'solidarity-minio-'));
    minio = await startLocalMinio({ dataDir });
    app = await startTestApp({ S3_ENDPOINT: minio.endpoint, UPLOAD_PART_BYTES: String(5 * MiB) });
    await seedDemoCampaign(app.deps);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await minio?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function problem(answer: { status: number; body: string; headers: { 'retry-after'?: string } | Headers }) {
    const retryAfter = answer.headers instanceof Headers ? answer.headers.get('retry-after') : answer.headers['retry-after'];
    return { status: answer.status, code: (JSON.parse(answer.body) as { code: string }).code, retryAfter: Number(retryAfter) > 0 };
  }

  test('when S3 goes down between two PATCHes, then the PATCH and a creation are answered 503 storage_unavailable with Retry-After (a HEAD 423), nothing is discarded, and once S3 is back the upload resumes to the right SHA-256', async () => {
    const clip = await clipOf(9);
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    const first = await rawPatch(app.baseUrl, id!, 0, clip.subarray(0, 6 * MiB)).answer;
    expect({ status: first.status, offset: first.headers['upload-offset'] }).toEqual({ status: 204, offset: String(6 * MiB) });

    await minio.stop();
    const during = await rawPatch(app.baseUrl, id!, 6 * MiB, clip.subarray(6 * MiB)).answer;
    expect(await problem(during)).toEqual({ status: 503, code: 'storage_unavailable', retryAfter: true });
    // Not "not found", nor 503 (tus-js-client would start again from nothing): 423, retried by tus clients.
    const head = await headUpload(app.baseUrl, id!);
    expect({ status: head.status, retryAfter: Number(head.retryAfter) > 0 }).toEqual({ status: 423, retryAfter: true });
    const creation = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    expect(await problem(creation)).toEqual({ status: 503, code: 'storage_unavailable', retryAfter: true });

    minio = await startLocalMinio({ dataDir, port: minio.port });
    const resumed = await headUpload(app.baseUrl, id!);
    expect(resumed).toMatchObject({ status: 200, offset: 6 * MiB });
    const rest = await rawPatch(app.baseUrl, id!, resumed.offset, clip.subarray(resumed.offset)).answer;
    expect(rest.status).toBe(200);
    const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    expect(doc.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip), contentType: 'video/mp4' });
  }, 90_000);

  test('when S3 goes down while a PATCH is sending, then it is answered 503 storage_unavailable while the body is still coming, the upload stays, and it completes once S3 is back', async () => {
    const clip = await clipOf(14);
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    const patch = rawPatch(app.baseUrl, id!, 0, clip.subarray(0, 2 * MiB), { declared: clip.length });
    await patch.written;
    await minio.stop();
    // More bytes than a part: the part's upload to S3 fails.
    void patch.write(clip.subarray(2 * MiB, 8 * MiB));
    const answer = await patch.answer;
    patch.stop();
    expect(answer.sent).toBeLessThan(clip.length);
    expect(await problem(answer)).toEqual({ status: 503, code: 'storage_unavailable', retryAfter: true });

    minio = await startLocalMinio({ dataDir, port: minio.port });
    const resumed = await headUpload(app.baseUrl, id!);
    expect(resumed.status).toBe(200);
    const rest = await rawPatch(app.baseUrl, id!, resumed.offset, clip.subarray(resumed.offset)).answer;
    expect(rest.status).toBe(200);
    const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    expect(doc.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip) });
  }, 90_000);
});

import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { Types } from 'mongoose';
import { startLocalMinio } from '../../infra/local/services';
import { createSubmission } from '../../server/services/submission.service';
import { parseFields } from '../../server/upload/submission-fields';
import { originalKey } from '../../shared/storage/keys';
import type { Submission } from '../../shared/submissions/submission.model';
import { smallMp4 } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { createUpload, headUpload, rawPatch, uploadMetadata } from '../helpers/tus-requests';
import { runWorker, workerDeps } from '../helpers/worker-env';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * The last step of a resumable upload (the submission's creation) meets an outage: the upload is kept and
 * the finish is run again later, by the client's next HEAD or by the sweep; exactly one submission results.
 */
describe('a resumable upload whose finish meets a database outage', () => {
  let app: TestApp;
  let clip: Buffer;

  beforeEach(async () => {
    app = await startTestApp();
    await seedDemoCampaign(app.deps);
    clip = await smallMp4();
  });
  afterEach(async () => {
    await app.close();
  });

  /** Creates an upload, takes the database away, and sends every byte: the finish fails. */
  async function finishDuringOutage() {
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    await app.services.db.connection.close();
    const answer = await rawPatch(app.baseUrl, id!, 0, clip).answer;
    return { id: id!, answer };
  }

  async function databaseBack() {
    await app.services.db.connection.openUri(app.config.mongo.url);
  }

  async function submissionsOf(id: string) {
    return app.services.db.submissions.find({ _id: new Types.ObjectId(id) }).lean<Submission[]>();
  }

  test('when the database is down as the last byte arrives, then the PATCH is answered 503 database_unavailable with Retry-After and the clip and its tus record are kept', async () => {
    const { id, answer } = await finishDuringOutage();
    expect({ status: answer.status, code: (JSON.parse(answer.body) as { code: string }).code }).toEqual({ status: 503, code: 'database_unavailable' });
    expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
    expect((await app.services.storage.list(`originals/${id}/`)).sort()).toEqual([originalKey(id), `${originalKey(id)}.info`]);
  }, 30_000);

  test('when the client asks where the upload stands (HEAD) while the database is still down, then it hears 423 with Retry-After (not offset = size); once it is back, the HEAD makes exactly one submission with the clip\'s SHA-256, which the worker processes', async () => {
    const { id } = await finishDuringOutage();
    // 423, not 503: tus-js-client retries a HEAD's 423, and starts a new upload on any other failure.
    const stillDown = await headUpload(app.baseUrl, id);
    expect(stillDown.status).toBe(423);
    expect(Number(stillDown.retryAfter)).toBeGreaterThan(0);

    await databaseBack();
    const head = await headUpload(app.baseUrl, id);
    expect({ status: head.status, offset: head.offset }).toEqual({ status: 200, offset: clip.length });
    const again = await headUpload(app.baseUrl, id);
    expect(again.status).toBe(200);
    const made = await submissionsOf(id);
    expect(made).toHaveLength(1);
    expect(made[0]!.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip), contentType: 'video/mp4' });
    expect(made[0]!.status).toBe('received');
    const processed = await runWorker(workerDeps(app), id);
    expect(processed.status).not.toBe('received');
    expect(processed.status).not.toBe('failed');
  }, 120_000);

  test('when the sweep looks for finishes to run again, then it reads only those begun and not ended: a clip that arrived normally is not among them, and one removed meanwhile is dropped', async () => {
    const pendingKey = `${app.config.redis.queuePrefix}:tus:finish-pending`;
    const arrived = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    expect((await rawPatch(app.baseUrl, arrived.id!, 0, clip).answer).status).toBeLessThan(300);
    expect(await app.services.redis.zrange(pendingKey, 0, -1)).toEqual([]);

    const { id } = await finishDuringOutage();
    await databaseBack();
    expect(await app.services.redis.zrange(pendingKey, 0, -1)).toEqual([originalKey(id)]);
    // Removed meanwhile (expired, say): nothing left to finish, and the sweep stops asking.
    await app.services.storage.remove(originalKey(id));
    await app.services.storage.remove(`${originalKey(id)}.info`);
    expect(await app.tus.finishPending(0)).toBe(0);
    expect(await app.services.redis.zrange(pendingKey, 0, -1)).toEqual([]);
    expect(await submissionsOf(id)).toHaveLength(0);
  }, 30_000);

  test('when the client sends the final PATCH again after the outage, then it gets the receipt and still one submission exists', async () => {
    const { id } = await finishDuringOutage();
    await databaseBack();
    const answer = await rawPatch(app.baseUrl, id, clip.length, Buffer.alloc(0)).answer;
    expect({ status: answer.status, body: JSON.parse(answer.body) as unknown }).toEqual({
      status: 200,
      body: { id, status: 'received', statusUrl: `/api/submissions/${id}/status` },
    });
    const second = await rawPatch(app.baseUrl, id, clip.length, Buffer.alloc(0)).answer;
    expect(second.status).toBe(200);
    expect(await submissionsOf(id)).toHaveLength(1);
  }, 30_000);

  test('when the client never comes back, then the sweep finishes the upload once the database is back (not while it is down, not twice), and a later HEAD finds it done', async () => {
    const { id } = await finishDuringOutage();
    const sweep = app.tus;
    // A minute must pass after the last byte before the sweep takes an upload (its PATCH may still be finishing).
    expect(await sweep.finishPending()).toBe(0);
    await expect(sweep.finishPending(0)).rejects.toMatchObject({ code: 'database_unavailable' });
    expect(await app.services.storage.list(originalKey(id))).toContain(originalKey(id));

    await databaseBack();
    expect(await sweep.finishPending(0)).toBe(1);
    expect(await sweep.finishPending(0)).toBe(0);
    const made = await submissionsOf(id);
    expect(made).toHaveLength(1);
    expect(made[0]!.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip) });
    expect((await headUpload(app.baseUrl, id)).status).toBe(200);
  }, 30_000);

  test('when every byte arrived but S3 failed as the parts were put together (the multipart upload is still open), then the next HEAD completes the object and makes the submission (it was taken for removed: 404)', async () => {
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    const key = originalKey(id!);
    const { client } = app.services.storage;
    const bucket = app.config.s3.bucket;
    // What the store leaves when CompleteMultipartUpload fails: all the parts, stored; no object.
    const info = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: `${key}.info` }));
    await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: info.Metadata!['upload-id'], PartNumber: 1, Body: clip, ChecksumAlgorithm: 'CRC32' }));
    const head = await headUpload(app.baseUrl, id!);
    expect({ status: head.status, offset: head.offset }).toEqual({ status: 200, offset: clip.length });
    const made = await submissionsOf(id!);
    expect(made).toHaveLength(1);
    expect(made[0]!.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip) });
  }, 30_000);

  test('when createSubmission runs twice for one upload id, then one submission exists and the second run succeeds', async () => {
    const id = new Types.ObjectId().toHexString();
    const { metadata } = uploadMetadata();
    const params = {
      id,
      input: parseFields({ campaign: 'demo', organisation: 'BNP', country: 'BY', language: 'be', title: 'Салідарнасць', consent: metadata.consent }),
      video: { key: originalKey(id), bytes: clip.length, sha256: sha256(clip), contentType: 'video/mp4' },
      subtitles: null,
      statusTokenHash: metadata.statusTokenHash,
    };
    await createSubmission(app.deps, params);
    await expect(createSubmission(app.deps, params)).resolves.toEqual({ id, statusToken: null });
    expect(await submissionsOf(id)).toHaveLength(1);
  }, 30_000);
});

describe('a resumable upload finished in another process after a database and an S3 outage (a real MinIO stopped and started again)', () => {
  let dataDir: string;
  let minio: Awaited<ReturnType<typeof startLocalMinio>>;
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'solidarity-minio-'));
    minio = await startLocalMinio({ dataDir });
    first = await startTestApp({ S3_ENDPOINT: minio.endpoint });
    // Another process on the same database, bucket and queue (it never saw the clip's bytes arrive).
    const shared = (name: string) => first.env[name] ?? '';
    second = await startTestApp({ S3_ENDPOINT: minio.endpoint, MONGO_URL: shared('MONGO_URL'), QUEUE_PREFIX: shared('QUEUE_PREFIX'), S3_BUCKET: shared('S3_BUCKET') });
    await seedDemoCampaign(first.deps);
  }, 60_000);
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await minio?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('when the finish fails (database), then S3 is down at the client\'s next HEAD (in another process), then both are back, then that process reads the clip back and makes the one submission with its SHA-256; the first process\'s sweep makes none', async () => {
    const clip = await smallMp4();
    const { id } = await createUpload(first.baseUrl, clip.length, uploadMetadata().metadata);
    await first.services.db.connection.close();
    const answer = await rawPatch(first.baseUrl, id!, 0, clip).answer;
    expect({ status: answer.status, code: (JSON.parse(answer.body) as { code: string }).code }).toEqual({ status: 503, code: 'database_unavailable' });

    await minio.stop();
    const down = await headUpload(second.baseUrl, id!);
    expect({ status: down.status, retryAfter: Number(down.retryAfter) > 0 }).toEqual({ status: 423, retryAfter: true });
    await expect(second.tus.finishPending(0)).rejects.toMatchObject({ code: 'storage_unavailable' });

    minio = await startLocalMinio({ dataDir, port: minio.port });
    const head = await headUpload(second.baseUrl, id!);
    expect({ status: head.status, offset: head.offset }).toEqual({ status: 200, offset: clip.length });
    const made = await second.services.db.submissions.find({ _id: new Types.ObjectId(id) }).lean<Submission[]>();
    expect(made).toHaveLength(1);
    expect(made[0]!.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip), contentType: 'video/mp4' });

    await first.services.db.connection.openUri(first.config.mongo.url);
    expect(await first.tus.finishPending(0)).toBe(0);
    expect((await headUpload(first.baseUrl, id!)).status).toBe(200);
    expect(await first.services.db.submissions.countDocuments({ _id: new Types.ObjectId(id) })).toBe(1);
  }, 90_000);
});

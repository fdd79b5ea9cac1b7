import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { DeleteObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { createApp } from '../../server/app';
import { RedisLocker } from '../../server/upload/redis-locker';
import { originalKey } from '../../shared/storage/keys';
import type { Submission } from '../../shared/submissions/submission.model';
import { smallMp4 } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { createUpload, headUpload, rawPatch, uploadMetadata } from '../helpers/tus-requests';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** What the store keeps in S3 when requests break, fail or come back: offsets, part numbers, the SHA-256 in memory. */
describe('the tus store keeps offsets and the SHA-256 true when parts go missing or bytes are sent again', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ UPLOAD_PART_BYTES: String(PART) });
    await seedDemoCampaign(app.deps);
  });
  afterAll(async () => {
    await app.close();
  });

  async function multipartUploadId(id: string): Promise<string> {
    const listed = await app.deps.storage.client.send(new ListMultipartUploadsCommand({ Bucket: app.config.s3.bucket, Prefix: originalKey(id) }));
    return listed.Uploads!.find((upload) => upload.Key === originalKey(id))!.UploadId!;
  }

  async function storedObject(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await app.deps.storage.download(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  test('when a part failed while a later one of the same request was stored (a gap), then the offset stops before the gap, and the upload resumes from there to the right bytes', async () => {
    const clip = Buffer.concat([await smallMp4(), randomBytes(3 * PART)]);
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    expect((await rawPatch(app.baseUrl, id!, 0, clip.subarray(0, PART)).answer).headers['upload-offset']).toBe(String(PART));
    // Part 2 failed, part 3 (sent beside it) arrived.
    await app.deps.storage.client.send(
      new UploadPartCommand({ Bucket: app.config.s3.bucket, Key: originalKey(id!), UploadId: await multipartUploadId(id!), PartNumber: 3, Body: clip.subarray(2 * PART, 3 * PART), ChecksumAlgorithm: 'CRC32' }),
    );
    expect(await headUpload(app.baseUrl, id!)).toMatchObject({ status: 200, offset: PART });
    // A request that stops within part 2: its tail is the incomplete part; part 3 (kept from before) is not counted yet.
    const some = await rawPatch(app.baseUrl, id!, PART, clip.subarray(PART, 2 * PART + 1000)).answer;
    expect(some.headers['upload-offset']).toBe(String(2 * PART + 1000));
    expect(await headUpload(app.baseUrl, id!)).toMatchObject({ offset: 2 * PART + 1000 });
    const offset = (await headUpload(app.baseUrl, id!)).offset;
    expect((await rawPatch(app.baseUrl, id!, offset, clip.subarray(offset)).answer).status).toBe(200);
    const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    expect(doc.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip) });
    expect(sha256(await storedObject(originalKey(id!)))).toBe(sha256(clip));
  });

  test('when another server process stored different bytes at an offset this process had already hashed, then the SHA-256 is the stored object\'s, not the one in memory', async () => {
    const other = createApp(app.deps).listen(0, '127.0.0.1');
    await once(other, 'listening');
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      const clip = Buffer.concat([await smallMp4(), randomBytes(PART + 5000)]);
      const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
      // Here: part 1 and an incomplete part of 1000 bytes, hashed in this process's memory.
      expect((await rawPatch(app.baseUrl, id!, 0, clip.subarray(0, PART + 1000)).answer).headers['upload-offset']).toBe(String(PART + 1000));
      // The incomplete part is lost (a request elsewhere took it and S3 failed), and the other process
      // receives those 1000 bytes again, different this time.
      await app.deps.storage.client.send(new DeleteObjectCommand({ Bucket: app.config.s3.bucket, Key: `${originalKey(id!)}.part` }));
      expect(await headUpload(otherUrl, id!)).toMatchObject({ offset: PART });
      const changed = randomBytes(1000);
      expect((await rawPatch(otherUrl, id!, PART, changed).answer).headers['upload-offset']).toBe(String(PART + 1000));
      // Back here, at the offset this process's hash has reached: it must not be trusted.
      expect((await rawPatch(app.baseUrl, id!, PART + 1000, clip.subarray(PART + 1000)).answer).status).toBe(200);
      const stored = await storedObject(originalKey(id!));
      expect(stored.subarray(PART, PART + 1000).equals(changed)).toBe(true);
      const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
      expect(doc.original).toMatchObject({ bytes: clip.length, sha256: sha256(stored) });
    } finally {
      other.closeAllConnections();
      other.close();
    }
  });

  /** A second app on the same services: its own tus store (its own cache of descriptions, its own hashes in memory), as another process has. */
  async function otherProcess(): Promise<{ url: string; close(): void }> {
    const other = createApp(app.deps).listen(0, '127.0.0.1');
    await once(other, 'listening');
    return {
      url: `http://127.0.0.1:${(other.address() as AddressInfo).port}`,
      close: () => {
        other.closeAllConnections();
        other.close();
      },
    };
  }

  test('when two server processes receive one upload\'s requests in turn (parts and incomplete parts on both), then each answers the offset the other stored, and the clip and its SHA-256 are right', async () => {
    const other = await otherProcess();
    try {
      const clip = Buffer.concat([await smallMp4(), randomBytes(3 * PART + 7000)]);
      // Created here (this process keeps its description from the creation on), then written by both in turn.
      const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
      const cuts = [PART + 1000, PART + 3000, 2 * PART + 10, 3 * PART + 2, clip.length];
      let offset = 0;
      for (const [turn, cut] of cuts.entries()) {
        const url = turn % 2 === 0 ? app.baseUrl : other.url;
        // Each process first asks where the upload stands: what the other stored since must be counted.
        expect(await headUpload(url, id!)).toMatchObject({ status: 200, offset });
        const answer = await rawPatch(url, id!, offset, clip.subarray(offset, cut)).answer;
        expect(answer.status).toBe(cut === clip.length ? 200 : 204);
        if (cut < clip.length) expect(answer.headers['upload-offset']).toBe(String(cut));
        offset = cut;
      }
      expect(sha256(await storedObject(originalKey(id!)))).toBe(sha256(clip));
      const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
      expect(doc.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip) });
    } finally {
      other.close();
    }
  });

  test('when a request from offset 0 finds parts left by an earlier one that broke off (part 2 stored, part 1 not), then it sends them again: the offset counts only its own, and the clip is right', async () => {
    const clip = Buffer.concat([await smallMp4(), randomBytes(3 * PART)]);
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    // Left over: a part 2 with other bytes (an earlier request whose part 1 failed).
    await app.deps.storage.client.send(
      new UploadPartCommand({ Bucket: app.config.s3.bucket, Key: originalKey(id!), UploadId: await multipartUploadId(id!), PartNumber: 2, Body: randomBytes(PART), ChecksumAlgorithm: 'CRC32' }),
    );
    expect(await headUpload(app.baseUrl, id!)).toMatchObject({ status: 200, offset: 0 });
    // Stops inside part 2: part 1 and an incomplete part; the leftover part 2 does not count.
    expect((await rawPatch(app.baseUrl, id!, 0, clip.subarray(0, PART + 1000)).answer).headers['upload-offset']).toBe(String(PART + 1000));
    expect(await headUpload(app.baseUrl, id!)).toMatchObject({ offset: PART + 1000 });
    expect((await rawPatch(app.baseUrl, id!, PART + 1000, clip.subarray(PART + 1000)).answer).status).toBe(200);
    expect(sha256(await storedObject(originalKey(id!)))).toBe(sha256(clip));
    const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    expect(doc.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip) });
  });

  test('when a process stopped after storing a part but before replacing the incomplete part it had taken (a crash), then the offset counts the old incomplete part, not the new part, and the upload resumes to the right bytes', async () => {
    const clip = Buffer.concat([await smallMp4(), randomBytes(3 * PART)]);
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    expect((await rawPatch(app.baseUrl, id!, 0, clip.subarray(0, PART + 1000)).answer).headers['upload-offset']).toBe(String(PART + 1000));
    // The crashed request had read the incomplete part (1000 bytes) and stored part 2 with it, then died before
    // deleting it: part 2 is there, and the incomplete part still says it follows part 1.
    await app.deps.storage.client.send(
      new UploadPartCommand({ Bucket: app.config.s3.bucket, Key: originalKey(id!), UploadId: await multipartUploadId(id!), PartNumber: 2, Body: clip.subarray(PART, 2 * PART), ChecksumAlgorithm: 'CRC32' }),
    );
    // Another process (this one's hash in memory would not know of the crash) finds the upload where it was.
    const other = await otherProcess();
    try {
      expect(await headUpload(other.url, id!)).toMatchObject({ status: 200, offset: PART + 1000 });
      expect((await rawPatch(other.url, id!, PART + 1000, clip.subarray(PART + 1000)).answer).status).toBe(200);
    } finally {
      other.close();
    }
    expect(sha256(await storedObject(originalKey(id!)))).toBe(sha256(clip));
    const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    expect(doc.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip) });
  });

  test('when PATCHes bring no bytes (at offset 0, after an incomplete part, at a part boundary), then each answers the offset unchanged, and the upload goes on to the right bytes', async () => {
    const clip = Buffer.concat([await smallMp4(), randomBytes(2 * PART + 3000)]);
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    const empty = async (offset: number) => {
      const answer = await rawPatch(app.baseUrl, id!, offset, Buffer.alloc(0)).answer;
      expect({ status: answer.status, offset: answer.headers['upload-offset'] }).toEqual({ status: 204, offset: String(offset) });
      expect(await headUpload(app.baseUrl, id!)).toMatchObject({ status: 200, offset });
    };
    await empty(0);
    expect((await rawPatch(app.baseUrl, id!, 0, clip.subarray(0, PART + 1000)).answer).headers['upload-offset']).toBe(String(PART + 1000));
    await empty(PART + 1000);
    expect((await rawPatch(app.baseUrl, id!, PART + 1000, clip.subarray(PART + 1000, 2 * PART)).answer).headers['upload-offset']).toBe(String(2 * PART));
    await empty(2 * PART);
    expect((await rawPatch(app.baseUrl, id!, 2 * PART, clip.subarray(2 * PART)).answer).status).toBe(200);
    expect(sha256(await storedObject(originalKey(id!)))).toBe(sha256(clip));
    const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    expect(doc.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip) });
    await expect(app.deps.storage.client.send(new HeadObjectCommand({ Bucket: app.config.s3.bucket, Key: `${originalKey(id!)}.part` }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  // Sizes around the part size (under one part, exactly one, N, one byte either side), each sent in one request
  // and in requests cut one byte either side of each part boundary (incomplete parts of P - 1 and 1 bytes, none).
  test.each([4000, PART - 1, PART, PART + 1, 2 * PART - 1, 2 * PART, 2 * PART + 1])('when an upload of %i bytes is sent whole, and in requests cut around each part boundary, then every offset answered is the cut, and the clip and its SHA-256 are right', async (size) => {
    const clip = Buffer.concat([await smallMp4(), randomBytes(size)]).subarray(0, size);
    const boundaries = [PART, 2 * PART].flatMap((at) => [at - 1, at, at + 1]).filter((cut) => cut > 0 && cut < size);
    for (const cuts of [[size], [...new Set(boundaries), size]]) {
      const { id } = await createUpload(app.baseUrl, size, uploadMetadata().metadata);
      let offset = 0;
      for (const cut of cuts) {
        const answer = await rawPatch(app.baseUrl, id!, offset, clip.subarray(offset, cut)).answer;
        expect({ cut, status: answer.status, offset: answer.headers['upload-offset'] }).toEqual({ cut, status: cut === size ? 200 : 204, offset: String(cut) });
        offset = cut;
      }
      expect(sha256(await storedObject(originalKey(id!)))).toBe(sha256(clip));
      const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
      expect(doc.original).toMatchObject({ bytes: size, sha256: sha256(clip) });
      await expect(app.deps.storage.client.send(new HeadObjectCommand({ Bucket: app.config.s3.bucket, Key: `${originalKey(id!)}.part` }))).rejects.toMatchObject({ name: 'NotFound' });
    }
  });
});

describe('the Redis lock of a resumable upload', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  test('when a held lock expired in Redis (its holder could not renew it in time), then the holder is asked to stop at its next renewal instead of writing beside a newcomer', async () => {
    const locker = new RedisLocker(app.services.redis, { prefix: `expiry${Date.now()}`, ttlMs: 1500 });
    const lock = locker.newLock('upload-1');
    let asked!: () => void;
    const askedToStop = new Promise<void>((resolve) => {
      asked = resolve;
    });
    await lock.lock(new AbortController().signal, () => asked());
    // Expired, and taken by someone else.
    await app.services.redis.set(locker.key('upload-1'), 'someone-else');
    await askedToStop;
    await lock.unlock();
    // Its unlock leaves the newcomer's lock alone.
    expect(await app.services.redis.get(locker.key('upload-1'))).toBe('someone-else');
    await locker.close();
  }, 10_000);

  test('when Redis is unreachable, then taking a lock fails at once with 503 queue_unavailable (a HEAD then says 423 and is retried) instead of hanging', async () => {
    // As the server's own client: no offline queue, so a command fails while Redis is away.
    const dead = new Redis('redis://127.0.0.1:9', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    dead.on('error', () => undefined);
    await dead.connect().catch(() => undefined);
    const locker = new RedisLocker(dead, { prefix: `dead${Date.now()}`, acquireTimeoutMs: 30_000 });
    const started = Date.now();
    await expect(locker.newLock('upload-1').lock(new AbortController().signal, () => undefined)).rejects.toMatchObject({ code: 'queue_unavailable', status: 503 });
    expect(Date.now() - started).toBeLessThan(5_000);
    await locker.close();
    dead.disconnect();
  }, 20_000);
});

import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { HeadObjectCommand, ListMultipartUploadsCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { createApp } from '../../server/app';
import { tusDatastore } from '../../server/upload/tus-upload';
import { Upload } from '@tus/utils';
import { originalKey } from '../../shared/storage/keys';
import { createObjectStorage } from '../../shared/storage/object-storage';
import type { Submission } from '../../shared/submissions/submission.model';
import { smallMp4 } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { createUpload, headUpload, ownerHeaders, rawPatch, uploadMetadata } from '../helpers/tus-requests';
import { waitUntil } from '../helpers/wait-until';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The tus store's description cache (s3-store's `cache`), as the keys it holds. */
function cachedIds(datastore: unknown): Promise<string[]> {
  return (datastore as { cache: { list(): Promise<string[]> } }).cache.list();
}

/**
 * S3 failing on one part of a request (a real MinIO, its UploadPart answered by a network failure for the parts
 * the test names, as an outage in the middle of a request does): what was already acknowledged stays stored.
 */
describe('the tus store when S3 fails on a part of a request that began with an incomplete part', () => {
  let app: TestApp;
  /** The S3 calls that fail (as S3 unreachable): `UploadPartCommand:<number>`, or a command's name. */
  const failing = new Set<string>();

  beforeAll(async () => {
    app = await startTestApp({ UPLOAD_PART_BYTES: String(PART), UPLOAD_PARTS_IN_FLIGHT: '2' }, undefined, (config) => {
      const storage = createObjectStorage(config.s3, config.upload);
      storage.client.middlewareStack.add(
        (next, context) => async (args) => {
          const number = (args.input as { PartNumber?: number }).PartNumber;
          if (failing.has(context.commandName ?? '') || failing.has(`${context.commandName}:${number}`)) {
            throw Object.assign(new Error('connect ECONNREFUSED (injected)'), { name: 'Error', code: 'ECONNREFUSED' });
          }
          return next(args);
        },
        { step: 'initialize', name: 'failSomeParts' },
      );
      return { storage };
    });
    await seedDemoCampaign(app.deps);
  });
  afterEach(() => failing.clear());

  async function multipartUploadId(id: string): Promise<string> {
    const listed = await app.deps.storage.client.send(new ListMultipartUploadsCommand({ Bucket: app.config.s3.bucket, Prefix: originalKey(id) }));
    return listed.Uploads!.find((upload) => upload.Key === originalKey(id))!.UploadId!;
  }
  afterAll(async () => {
    await app.close();
  });

  // Part 2 carries the incomplete part's bytes (and, in a clip of P + 4000 bytes, ends the upload).
  test.each([
    { what: 'the part that carries the incomplete part', size: 2 * PART + 3000, fail: ['UploadPartCommand:2'], kept: PART + 1000 },
    { what: 'the last part, which carries the incomplete part (the request would end the upload)', size: PART + 4000, fail: ['UploadPartCommand:2'], kept: PART + 1000 },
    { what: 'the new incomplete part (the request stops before a part is full)', size: 2 * PART + 3000, upTo: PART + 3000, fail: ['PutObjectCommand'], kept: PART + 1000 },
    { what: 'the deletion of the incomplete part once its bytes are in part 2', size: 2 * PART + 3000, fail: ['DeleteObjectCommand'], kept: PART + 1000 },
    { what: 'a later part, after the one that carries the incomplete part was stored', size: 2 * PART + 3000, fail: ['UploadPartCommand:3'], kept: 2 * PART },
  ])('when S3 fails on $what, then the offset is never less than what was acknowledged, and the upload resumes to the right bytes', async ({ size, upTo, fail, kept }) => {
    const clip = Buffer.concat([await smallMp4(), randomBytes(size)]).subarray(0, size);
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    // Part 1 and an incomplete part of 1000 bytes, acknowledged.
    expect((await rawPatch(app.baseUrl, id!, 0, clip.subarray(0, PART + 1000)).answer).headers['upload-offset']).toBe(String(PART + 1000));
    for (const number of fail) failing.add(number);
    const during = await rawPatch(app.baseUrl, id!, PART + 1000, clip.subarray(PART + 1000, upTo)).answer;
    expect(during.status).toBe(503);
    failing.clear();
    // The 1000 bytes acknowledged before are still counted (and stored); what was stored after them too.
    const resumed = await headUpload(app.baseUrl, id!);
    expect(resumed).toMatchObject({ status: 200, offset: kept });
    expect((await rawPatch(app.baseUrl, id!, resumed.offset, clip.subarray(resumed.offset)).answer).status).toBe(200);
    const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    expect(doc.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip) });
    // Nothing of the upload's bookkeeping is left beside the clip.
    await expect(app.deps.storage.client.send(new HeadObjectCommand({ Bucket: app.config.s3.bucket, Key: `${originalKey(id!)}.part` }))).rejects.toMatchObject({ name: 'NotFound' });
  }, 60_000);

  test('when a long request that began with an incomplete part has stored its first part, then that incomplete part is gone while the request goes on (a crash from then on keeps the parts stored), and the upload completes to the right bytes', async () => {
    const clip = Buffer.concat([await smallMp4(), randomBytes(4 * PART)]);
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    expect((await rawPatch(app.baseUrl, id!, 0, clip.subarray(0, PART + 1000)).answer).headers['upload-offset']).toBe(String(PART + 1000));
    // Parts 2 and 3 sent, the rest held back: the request is still open.
    const patch = rawPatch(app.baseUrl, id!, PART + 1000, clip.subarray(PART + 1000, 3 * PART + 1000), { declared: clip.length - PART - 1000 });
    await patch.written;
    const incomplete = { Bucket: app.config.s3.bucket, Key: `${originalKey(id!)}.part` };
    await waitUntil(
      () => app.deps.storage.client.send(new HeadObjectCommand(incomplete)).then(() => false, () => true),
      { timeoutMs: 10_000, intervalMs: 50, what: "the first request's incomplete part to be stored in a part and removed" },
    );
    const parts = await app.deps.storage.client.send(new ListPartsCommand({ Bucket: app.config.s3.bucket, Key: originalKey(id!), UploadId: await multipartUploadId(id!) }));
    expect(parts.Parts?.map((part) => part.PartNumber)).toEqual(expect.arrayContaining([1, 2]));
    await patch.write(clip.subarray(3 * PART + 1000));
    expect((await patch.answer).status).toBe(200);
    const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    expect(doc.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip) });
  }, 30_000);

  test('when S3 fails on a part while the client is between two writes (the rest of the body not yet sent), then the PATCH is answered 503 at once, not when the client sends more or stalls', async () => {
    const clip = Buffer.concat([await smallMp4(), randomBytes(2 * PART)]);
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    failing.add('UploadPartCommand:1');
    // One byte past part 1 (which is sent with it, and fails), then nothing more for now.
    const patch = rawPatch(app.baseUrl, id!, 0, clip.subarray(0, PART + 1), { declared: clip.length });
    const answer = await patch.answer;
    patch.stop();
    expect({ status: answer.status, code: (JSON.parse(answer.body) as { code: string }).code, sent: answer.sent }).toEqual({ status: 503, code: 'storage_unavailable', sent: PART + 1 });
    failing.clear();
    expect(await headUpload(app.baseUrl, id!)).toMatchObject({ status: 200, offset: 0 });
    expect((await rawPatch(app.baseUrl, id!, 0, clip).answer).status).toBe(200);
    const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    expect(doc.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip) });
  }, 20_000);

  test('when a request that began with an incomplete part is cut off by the client (within its first part, and after two more parts were sent), then the offset lies between where it began and what was sent, and the upload resumes to the right bytes', async () => {
    const clip = Buffer.concat([await smallMp4(), randomBytes(4 * PART)]);
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    expect((await rawPatch(app.baseUrl, id!, 0, clip.subarray(0, PART + 1000)).answer).headers['upload-offset']).toBe(String(PART + 1000));
    let offset = PART + 1000;
    // Cut within part 2 (the incomplete part replaced), then after parts 2 and 3 were sent (it deleted, a new one for the tail).
    for (const upTo of [PART + 300_000, 3 * PART + 5000]) {
      const patch = rawPatch(app.baseUrl, id!, offset, clip.subarray(offset, upTo), { declared: clip.length - offset });
      await patch.written;
      patch.stop();
      // What the server had read when the cut came is stored (a HEAD waits for the cut request's lock).
      const head = await headUpload(app.baseUrl, id!);
      expect(head.status).toBe(200);
      expect(head.offset).toBeGreaterThanOrEqual(offset);
      expect(head.offset).toBeLessThanOrEqual(upTo);
      offset = head.offset;
    }
    expect((await rawPatch(app.baseUrl, id!, offset, clip.subarray(offset)).answer).status).toBe(200);
    const doc = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    expect(doc.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip) });
  }, 30_000);
});

describe('the tus store keeps uploads\' descriptions in memory only while they can be written', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ UPLOAD_PART_BYTES: String(PART) });
    await seedDemoCampaign(app.deps);
  });
  afterAll(async () => {
    await app.close();
  });

  test('when an upload has ended (completed here or in another process, or terminated there), then asking about it here (HEAD, the sweep) does not keep its description in memory', async () => {
    const other = createApp(app.deps).listen(0, '127.0.0.1');
    await once(other, 'listening');
    const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      const clip = await smallMp4();
      // Completed here, then asked about again here.
      const here = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
      expect((await rawPatch(app.baseUrl, here.id!, 0, clip).answer).status).toBe(200);
      expect(await headUpload(app.baseUrl, here.id!)).toMatchObject({ status: 200, offset: clip.length });
      // Created here, completed in the other process, then asked about here.
      const there = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
      expect((await rawPatch(otherUrl, there.id!, 0, clip).answer).status).toBe(200);
      expect(await headUpload(app.baseUrl, there.id!)).toMatchObject({ status: 200, offset: clip.length });
      await app.tus.datastore.getUpload(originalKey(there.id!));
      // Created here, terminated in the other process (DELETE), then asked about here: gone.
      const gone = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
      const deleted = await fetch(`${otherUrl}/tus/${gone.id}`, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0', ...ownerHeaders(gone.id!) } });
      expect(deleted.status).toBe(204);
      expect((await headUpload(app.baseUrl, gone.id!)).status).toBe(404);
      const cached = await cachedIds(app.tus.datastore);
      for (const upload of [here, there, gone]) expect(cached).not.toContain(originalKey(upload.id!));
    } finally {
      other.closeAllConnections();
      other.close();
    }
  });

  test('when more uploads are created than the cache holds (never written here again: they went on elsewhere), then it keeps at most its bound, and an upload whose description was dropped is still found', async () => {
    const datastore = tusDatastore(app.deps, 3_600_000, { maxCached: 3 });
    const ids: string[] = [];
    for (let n = 0; n < 8; n += 1) {
      const id = originalKey(`${'0'.repeat(16)}${String(n).padStart(8, '0')}`);
      ids.push(id);
      await datastore.create(new Upload({ id, size: 1000, offset: 0, metadata: { statusTokenHash: 'x' } }));
    }
    expect((await cachedIds(datastore)).length).toBeLessThanOrEqual(3);
    expect(await datastore.getUpload(ids[0]!)).toMatchObject({ id: ids[0], offset: 0, size: 1000 });
    for (const id of ids) await datastore.remove(id);
  });
});

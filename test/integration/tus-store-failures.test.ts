import { createHash, randomBytes } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { originalKey } from '../../shared/storage/keys';
import { createObjectStorage } from '../../shared/storage/object-storage';
import type { Submission } from '../../shared/submissions/submission.model';
import { smallMp4 } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { createUpload, headUpload, rawPatch, uploadMetadata } from '../helpers/tus-requests';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * S3 failing on one part of a request (a real MinIO, its UploadPart answered by a network failure for the parts
 * the test names, as an outage in the middle of a request does): what was already acknowledged stays stored.
 */
describe('the tus store when S3 fails on a part of a request that began with an incomplete part', () => {
  let app: TestApp;
  /** The part numbers whose UploadPart fails (as S3 unreachable). */
  const failing = new Set<number>();

  beforeAll(async () => {
    app = await startTestApp({ UPLOAD_PART_BYTES: String(PART), UPLOAD_PARTS_IN_FLIGHT: '2' }, undefined, (config) => {
      const storage = createObjectStorage(config.s3, config.upload);
      storage.client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as { PartNumber?: number };
          if (context.commandName === 'UploadPartCommand' && failing.has(input.PartNumber ?? 0)) {
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
  afterAll(async () => {
    await app.close();
  });

  // Part 2 carries the incomplete part's bytes (and, in a clip of P + 4000 bytes, ends the upload).
  test.each([
    { what: 'the part that carries the incomplete part', size: 2 * PART + 3000, fail: [2], kept: PART + 1000 },
    { what: 'the last part, which carries the incomplete part (the request would end the upload)', size: PART + 4000, fail: [2], kept: PART + 1000 },
    { what: 'a later part, after the one that carries the incomplete part was stored', size: 2 * PART + 3000, fail: [3], kept: 2 * PART },
  ])('when S3 fails on $what, then the offset is never less than what was acknowledged, and the upload resumes to the right bytes', async ({ size, fail, kept }) => {
    const clip = Buffer.concat([await smallMp4(), randomBytes(size)]).subarray(0, size);
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    // Part 1 and an incomplete part of 1000 bytes, acknowledged.
    expect((await rawPatch(app.baseUrl, id!, 0, clip.subarray(0, PART + 1000)).answer).headers['upload-offset']).toBe(String(PART + 1000));
    for (const number of fail) failing.add(number);
    const during = await rawPatch(app.baseUrl, id!, PART + 1000, clip.subarray(PART + 1000)).answer;
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
});

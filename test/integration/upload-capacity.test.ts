import { smallMp4 } from '../helpers/fixtures';
import { slowUpload, type SlowUploadResult } from '../helpers/slow-upload';
import { expectNothingStored, storedState } from '../helpers/storage-state';
import { demoConsent, seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

const MiB = 1024 * 1024;

const fields = {
  campaign: 'demo',
  organisation: 'Congress of Democratic Trade Unions',
  country: 'BY',
  language: 'en',
  title: 'Free them',
  consent: demoConsent('en'),
};

let video: Buffer;
beforeAll(async () => {
  video = await smallMp4();
});

describe('uploads in flight are capped', () => {
  const CAP = 5;
  const CLIENTS = 50;
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ UPLOAD_MAX_IN_FLIGHT: String(CAP), UPLOAD_PART_BYTES: String(5 * MiB) });
    await seedDemoCampaign(app.deps);
  });
  afterAll(async () => {
    await app.close();
  });

  test(`when ${CLIENTS} slow uploads arrive at once with room for ${CAP}, then the others get 503 + Retry-After at once, the ${CAP} finish, and nothing is half-stored`, async () => {
    const HOLD = 20_000;
    let refused = 0;
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    // The uploads within the cap wait (holding their slots) until every other one has been answered,
    // or for 20 s at most, so a missing cap fails instead of hanging.
    const giveUp = setTimeout(openGate, 20_000);
    const uploads = Array.from({ length: CLIENTS }, () =>
      slowUpload(`${app.baseUrl}/api/submissions`, {
        fields,
        parts: [{ field: 'video', filename: 'clip.mp4', head: video, fillerBytes: MiB }],
        hold: { bytes: HOLD, until: gate },
        intervalMs: 2,
      }).then((result) => {
        if (result.status === 503) refused += 1;
        if (refused === CLIENTS - CAP) openGate();
        return result;
      }),
    );
    const results: SlowUploadResult[] = await Promise.all(uploads);
    clearTimeout(giveUp);

    const busy = results.filter((r) => r.status === 503);
    const accepted = results.filter((r) => r.status === 202);
    expect({ busy: busy.length, accepted: accepted.length }).toEqual({ busy: CLIENTS - CAP, accepted: CAP });
    for (const r of busy) {
      expect(r.json.code).toBe('server_busy');
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      // Answered while the body was still held back: at once, not after it.
      expect(r.sentBytes).toBeLessThanOrEqual(HOLD);
      expect(r.closed).toBe(true);
    }
    // Exactly the accepted clips are stored, whole; nothing of the refused ones, no unfinished multipart upload.
    const ids = accepted.map((r) => String(r.json.id)).sort();
    const state = await storedState(app);
    expect(state).toEqual({ objects: ids.map((id) => `originals/${id}/video`).sort(), pendingMultipartUploads: 0, submissions: CAP });

    // The slots are given back: the next upload is taken.
    const next = await slowUpload(`${app.baseUrl}/api/submissions`, { fields, parts: [{ field: 'video', filename: 'clip.mp4', head: video }], intervalMs: 0 });
    expect(next.status).toBe(202);
  }, 90_000);
});

describe('a body that stalls or trickles is cut off after UPLOAD_IDLE_SECONDS', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ UPLOAD_IDLE_SECONDS: '1', UPLOAD_PART_BYTES: String(5 * MiB) });
    await seedDemoCampaign(app.deps);
  });
  afterAll(async () => {
    await app.close();
  });
  afterEach(async () => {
    const { db, storage } = app.services;
    await db.submissions.deleteMany({});
    for (const key of await storage.list('')) await storage.remove(key);
  });

  const send = (options: Partial<Parameters<typeof slowUpload>[1]>) =>
    slowUpload(`${app.baseUrl}/api/submissions`, {
      fields,
      parts: [{ field: 'video', filename: 'clip.mp4', head: video, fillerBytes: 8 * MiB }],
      answerTimeoutMs: 15_000,
      ...options,
    });

  function expectCutOff(result: SlowUploadResult): void {
    expect({ status: result.status, code: result.json.code }).toEqual({ status: 408, code: 'upload_stalled' });
    expect(result.closed).toBe(true);
    // Generous: the idle time is 1 s; a cut-off only at the end of a long wait would fail.
    expect(result.ms).toBeLessThan(10_000);
  }

  test('when the body trickles one byte every 200 ms after 6 MiB of the clip (an S3 part already stored), then it is cut off, the S3 upload aborted, nothing stored', async () => {
    const result = await send({ trickleAfterBytes: 6 * MiB, trickleEveryMs: 200, stopAfterBytes: 6 * MiB + 50, chunkBytes: 256 * 1024, intervalMs: 5 });
    expectCutOff(result);
    expect(result.sentBytes).toBeLessThan(6 * MiB + 100);
    await expectNothingStored(app);
  });

  test('when the body trickles while the fields are being sent, then it is cut off', async () => {
    const result = await send({ trickleAfterBytes: 100, trickleEveryMs: 200, stopAfterBytes: 150 });
    expectCutOff(result);
    await expectNothingStored(app);
  });

  test('when the body stops altogether mid-clip, then it is cut off', async () => {
    let release!: () => void;
    const never = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      const result = await send({ hold: { bytes: 100_000, until: never } });
      expectCutOff(result);
      await expectNothingStored(app);
    } finally {
      release();
    }
  });

  test('when the body is slow but steady (16 KiB every 100 ms), then it is not cut off and the clip is stored', async () => {
    const result = await send({
      parts: [{ field: 'video', filename: 'clip.mp4', head: video, fillerBytes: 400 * 1024 }],
      chunkBytes: 16 * 1024,
      intervalMs: 100,
    });
    expect(result.status).toBe(202);
    expect(result.ms).toBeGreaterThan(2000);
    expect((await storedState(app)).submissions).toBe(1);
  });
});

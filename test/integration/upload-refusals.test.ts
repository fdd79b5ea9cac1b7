import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { smallMp4 } from '../helpers/fixtures';
import { slowUpload, type LazyPart, type SlowUploadResult } from '../helpers/slow-upload';
import { expectNothingStored } from '../helpers/storage-state';
import { demoConsent, seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { createObjectStorage } from '../../shared/storage/object-storage';

/**
 * Every refusal of a large upload is answered while the clip is still on its way, and the connection closed:
 * a 300 MB body, sent slowly and made as it is sent, must be answered before 10 MB of it were sent — and
 * nothing may be left stored.
 */
const MB = 1_000_000;
const BODY = 300 * MB;
const LIMIT = 10 * MB;

const fields = (overrides: Record<string, string | undefined> = {}): Record<string, string> =>
  Object.fromEntries(
    Object.entries({
      campaign: 'demo',
      organisation: 'Free Trade Union of Belarus',
      country: 'BY',
      language: 'en',
      title: 'Solidarity',
      consent: demoConsent('en'),
      ...overrides,
    }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );

/** Parts whose bytes add up to a 300 MB body: the last one is filled up. */
function parts(list: LazyPart[], fieldValues: Record<string, string>): LazyPart[] {
  const overhead = 2000 + JSON.stringify(fieldValues).length * 2;
  const fixed = list.reduce((sum, p) => sum + p.head.length + (p.fillerBytes ?? 0), 0);
  const last = list[list.length - 1]!;
  return [...list.slice(0, -1), { ...last, fillerBytes: (last.fillerBytes ?? 0) + BODY - fixed - overhead }];
}

const measured: Array<[string, number, number]> = [];

async function sendLarge(app: TestApp, what: string, fieldValues: Record<string, string>, list: LazyPart[], localAddress?: string): Promise<SlowUploadResult> {
  const result = await slowUpload(`${app.baseUrl}/api/submissions`, {
    fields: fieldValues,
    parts: parts(list, fieldValues),
    // Never more than 16 MB even when the answer does not come (a failing test stops there and waits).
    stopAfterBytes: 16 * MB,
    answerTimeoutMs: 15_000,
    localAddress,
  });
  measured.push([what, result.sentBytes, result.ms]);
  return result;
}

function expectAnsweredEarly(result: SlowUploadResult, status: number, code: string): void {
  expect({ status: result.status, code: result.json.code }).toEqual({ status, code });
  expect(result.totalBytes).toBeGreaterThanOrEqual(BODY - 10_000);
  expect(result.sentBytes).toBeLessThan(LIMIT);
  expect(result.headers.connection).toBe('close');
  expect(result.closed).toBe(true);
}

let video: Buffer;
beforeAll(async () => {
  video = await smallMp4();
});

afterAll(() => {
  // The figures for the report: bytes sent before each refusal was answered.
  const lines = measured.map(([what, bytes, ms]) => `  ${what}: ${(bytes / MB).toFixed(2)} MB sent, answered after ${ms} ms`);
  process.stdout.write(`bytes sent before the refusal arrived (300 MB body):\n${lines.join('\n')}\n`);
});

describe('a refused 300 MB upload is answered before 10 MB of it were sent', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ UPLOAD_PART_BYTES: String(5 * 1024 * 1024) });
    await seedDemoCampaign(app.deps);
    await seedDemoCampaign(app.deps, { slug: 'closed', status: 'closed' });
  });
  afterAll(async () => {
    await app.close();
  });

  const pdf = Buffer.from('%PDF-1.7 not a video at all '.repeat(200));
  const subtitle = Buffer.from('1\n00:00:00,000 --> 00:00:01,000\nСвабоду!\n\n');

  test.each([
    ['first part: not a video', {}, () => [{ field: 'video', filename: 'a.mp4', head: pdf }], 415, 'unsupported_file_type'],
    ['first part: the campaign is closed', { campaign: 'closed' }, () => [{ field: 'video', filename: 'a.mp4', head: video }], 403, 'campaign_closed'],
    ['first part: the campaign is unknown', { campaign: 'nope' }, () => [{ field: 'video', filename: 'a.mp4', head: video }], 404, 'campaign_not_found'],
    ['first part: consent missing', { consent: undefined }, () => [{ field: 'video', filename: 'a.mp4', head: video }], 400, 'consent_missing'],
    ['second part: subtitles not text, after a good video', {}, () => [
      { field: 'video', filename: 'a.mp4', head: video },
      { field: 'subtitles', filename: 's.srt', head: video.subarray(0, 5000) },
    ], 415, 'unsupported_subtitle_type'],
    ['second part: subtitles too large, after a good video', {}, () => [
      { field: 'video', filename: 'a.mp4', head: video },
      { field: 'subtitles', filename: 's.srt', head: subtitle, filler: 0x61 },
    ], 413, 'subtitle_too_large'],
  ] as Array<[string, Record<string, string | undefined>, () => LazyPart[], number, string]>)(
    'when %s, then it is answered at once, the connection closed, and nothing is stored',
    async (what, overrides, list, status, code) => {
      const values = fields(overrides);
      const result = await sendLarge(app, what, values, list());
      expectAnsweredEarly(result, status, code);
      await expectNothingStored(app);
    },
  );

  test('when the video itself is too large, then it is refused as soon as it passes the limit', async () => {
    const small = await startTestApp({ UPLOAD_MAX_BYTES: String(2 * MB) });
    try {
      await seedDemoCampaign(small.deps);
      const values = fields();
      // Declared as less than the limit allows, so only the streamed count can catch it.
      const result = await slowUpload(`${small.baseUrl}/api/submissions`, {
        fields: values,
        parts: [{ field: 'video', filename: 'a.mp4', head: video, fillerBytes: 2 * MB }],
        stopAfterBytes: 16 * MB,
        answerTimeoutMs: 15_000,
      });
      measured.push(['first part: video over UPLOAD_MAX_BYTES (2 MB)', result.sentBytes, result.ms]);
      expect({ status: result.status, code: result.json.code }).toEqual({ status: 413, code: 'file_too_large' });
      expect(result.sentBytes).toBeLessThan(result.totalBytes);
      await expectNothingStored(small);
    } finally {
      await small.close();
    }
  });
});

describe('while storage is down', () => {
  test('when S3 is unreachable, then a 300 MB upload gets 503 storage_unavailable before 10 MB were sent, and no document is written', async () => {
    const app = await startTestApp({}, undefined, (config) => ({
      storage: createObjectStorage({ ...config.s3, endpoint: 'http://127.0.0.1:9' }, config.upload),
    }));
    try {
      await seedDemoCampaign(app.deps);
      const result = await sendLarge(app, 'storage down (S3 unreachable)', fields(), [{ field: 'video', filename: 'a.mp4', head: video }]);
      expectAnsweredEarly(result, 503, 'storage_unavailable');
      expect(await app.services.db.submissions.countDocuments()).toBe(0);
    } finally {
      await app.close();
    }
  });
});

describe('while storage does not answer', () => {
  test('when S3 takes connections but never answers, then the upload gets 503 storage_unavailable after the bucket check gives up (10 s)', async () => {
    const held = new Set<net.Socket>();
    const blackhole = net.createServer((socket) => void held.add(socket));
    blackhole.listen(0, '127.0.0.1');
    await once(blackhole, 'listening');
    const { port } = blackhole.address() as AddressInfo;
    const silent = (config: TestApp['config']) => createObjectStorage({ ...config.s3, endpoint: `http://127.0.0.1:${port}` }, config.upload);
    let storage: ReturnType<typeof silent> | undefined;
    const app = await startTestApp({}, undefined, (config) => ({ storage: (storage = silent(config)) }));
    try {
      await seedDemoCampaign(app.deps);
      const result = await sendLarge(app, 'storage silent (S3 takes connections, never answers)', fields(), [{ field: 'video', filename: 'a.mp4', head: video }]);
      expect({ status: result.status, code: result.json.code }).toEqual({ status: 503, code: 'storage_unavailable' });
      expect(result.closed).toBe(true);
      expect(await app.services.db.submissions.countDocuments()).toBe(0);
    } finally {
      await app.close();
      storage?.client.destroy();
      for (const socket of held) socket.destroy();
      blackhole.close();
    }
  }, 60_000);
});

describe('past the rate limit', () => {
  test('when a client has used its uploads, then its 300 MB upload gets 429 with Retry-After before 10 MB were sent', async () => {
    const app = await startTestApp({ RATE_LIMIT_UPLOADS: '1', RATE_LIMIT_WINDOW_SECONDS: '600' });
    try {
      await seedDemoCampaign(app.deps);
      const first = await slowUpload(`${app.baseUrl}/api/submissions`, {
        fields: fields(),
        parts: [{ field: 'video', filename: 'a.mp4', head: video }],
        intervalMs: 0,
      });
      expect(first.status).toBe(202);
      const result = await sendLarge(app, 'rate limit', fields(), [{ field: 'video', filename: 'a.mp4', head: video }]);
      expectAnsweredEarly(result, 429, 'too_many_requests');
      expect(Number(result.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(result.headers['retry-after'])).toBeLessThanOrEqual(600);
      expect(await app.services.db.submissions.countDocuments()).toBe(1);
    } finally {
      await app.close();
    }
  });
});

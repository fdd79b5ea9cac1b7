import { ListMultipartUploadsCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import type { Express } from 'express';
import { createApp } from '../../server/app';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { smallMp4 } from '../helpers/fixtures';
import { multipartBody, post, postMultipart, type FilePart } from '../helpers/multipart';
import { expectNothingStored, storedState } from '../helpers/storage-state';
import { demoConsent, seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { waitUntil } from '../helpers/wait-until';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function fields(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const all: Record<string, string | undefined> = {
    campaign: 'demo',
    organisation: 'Беларускі незалежны прафсаюз',
    country: 'by',
    language: 'be',
    title: 'Салідарнасць з палітвязнямі',
    message: 'Free them all.',
    contactEmail: 'press@example.org',
    consent: demoConsent('be'),
    ...overrides,
  };
  return Object.fromEntries(Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: RouterLayer[] };
}

/** `method /path` of every route of the app that is not a page or a page's asset, in OpenAPI's path syntax. */
function apiRoutes(express: Express): string[] {
  const out: string[] = [];
  const walk = (stack: RouterLayer[]) => {
    for (const layer of stack) {
      if (layer.handle?.stack) walk(layer.handle.stack);
      if (!layer.route) continue;
      const path = layer.route.path;
      // Pages and their assets: the contributors' (/c, /s, /c-assets, a report's status /r), the public pages (/verify,
      // whose API is /api/verify; a campaign's public summary of actions /p) and the staff's (but not the admins' API, /staff/api).
      if (/^\/(c|s|r|p|c-assets|verify)(\/|$)/.test(path) || /^\/staff(?!\/api\/)(\/|$)/.test(path)) continue;
      // The tus handler's catch-all (HEAD, DELETE, OPTIONS… of /tus and /tus/{id}): checked by name below.
      if (path === '/tus{/*splat}') continue;
      for (const method of Object.keys(layer.route.methods)) out.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
  };
  walk((express as unknown as { router: { stack: RouterLayer[] } }).router.stack);
  return out;
}

describe('POST /api/submissions', () => {
  let app: TestApp;
  let video: Buffer;
  let url: string;
  const videoPart = (content: Buffer = video): FilePart => ({ field: 'video', filename: 'IMG_0042.MOV', content, contentType: 'video/quicktime' });

  beforeAll(async () => {
    // Limits small enough to test quickly, large enough that uploads span several 5 MiB multipart parts.
    app = await startTestApp({ UPLOAD_MAX_BYTES: String(12 * MiB), UPLOAD_PART_BYTES: String(5 * MiB), SUBTITLE_MAX_BYTES: '4096' });
    await seedDemoCampaign(app.deps);
    await seedDemoCampaign(app.deps, { slug: 'closed', status: 'closed' });
    await seedDemoCampaign(app.deps, { slug: 'ended', closesAt: new Date('2020-01-01'), opensAt: new Date('2019-01-01') });
    video = await smallMp4();
    url = `${app.baseUrl}/api/submissions`;
  });

  afterAll(async () => {
    await app.close();
  });

  afterEach(async () => {
    // Each test starts from an empty store.
    const { db, storage } = app.services;
    await db.submissions.deleteMany({});
    for (const key of await storage.list('')) await storage.remove(key);
  });

  test('when a valid clip is sent, then it is stored in S3 with its SHA-256, recorded, queued, and its status is readable with the token', async () => {
    const response = await postMultipart(url, fields(), [videoPart()]);
    expect(response.status).toBe(202);
    const { id, statusToken } = response.json as { id: string; statusToken: string };
    expect(id).toMatch(/^[a-f0-9]{24}$/);
    expect(statusToken.length).toBeGreaterThanOrEqual(40);

    const doc = await app.services.db.submissions.findById(id).lean();
    expect(doc).toMatchObject({
      status: 'received',
      organisation: 'Беларускі незалежны прафсаюз',
      country: 'BY',
      language: 'be',
      consent: { version: 1, language: 'be', statements: ['record', 'publish', 'risk'] },
      original: { key: `originals/${id}/video`, bytes: video.length, sha256: sha256(video), contentType: 'video/mp4' },
      subtitles: null,
    });
    // Only a hash of the token is stored, and the original filename nowhere.
    expect(doc?.statusTokenHash).toBe(createHash('sha256').update(statusToken).digest('hex'));
    expect(JSON.stringify(doc)).not.toContain(statusToken);
    expect(JSON.stringify(doc)).not.toContain('IMG_0042');

    const stored = await buffer(await app.services.storage.download(`originals/${id}/video`));
    expect(sha256(stored)).toBe(sha256(video));
    expect(await app.services.queue.jobState(id)).toBe('waiting');

    const status = await fetch(`${app.baseUrl}/api/submissions/${id}/status`, { headers: { Authorization: `Bearer ${statusToken}` } });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ id, status: 'received', rejection: null });
  });

  test('when a clip spans several multipart parts, then it is stored whole with the right size and SHA-256', async () => {
    const large = Buffer.concat([video, Buffer.alloc(11 * MiB, 1)]);
    const response = await postMultipart(url, fields(), [videoPart(large)]);
    expect(response.status).toBe(202);
    const id = String(response.json.id);
    expect(await app.services.db.submissions.findById(id).lean()).toMatchObject({ original: { bytes: large.length, sha256: sha256(large) } });
    expect(sha256(await buffer(await app.services.storage.download(`originals/${id}/video`)))).toBe(sha256(large));
  });

  test('when the status is asked without a token or with a wrong one, then it is refused without telling whether the id exists', async () => {
    const { id } = (await postMultipart(url, fields(), [videoPart()])).json as { id: string };
    const none = await fetch(`${app.baseUrl}/api/submissions/${id}/status`);
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect(((await none.json()) as { code: string }).code).toBe('status_token_required');
    const wrong = await fetch(`${app.baseUrl}/api/submissions/${id}/status`, { headers: { Authorization: `Bearer ${'x'.repeat(43)}` } });
    const unknown = await fetch(`${app.baseUrl}/api/submissions/${'a'.repeat(24)}/status`, { headers: { Authorization: `Bearer ${'x'.repeat(43)}` } });
    expect([wrong.status, unknown.status]).toEqual([404, 404]);
    expect(((await wrong.json()) as { code: string }).code).toBe('submission_not_found');
  });

  test('when a subtitle file comes with the clip, then it is stored beside it', async () => {
    const srt = Buffer.from('1\r\n00:00:00,000 --> 00:00:01,500\r\nСвабоду!\r\n');
    const response = await postMultipart(url, fields(), [videoPart(), { field: 'subtitles', filename: 'subs.srt', content: srt }]);
    expect(response.status).toBe(202);
    const doc = await app.services.db.submissions.findById(response.json.id).lean();
    expect(doc?.subtitles).toMatchObject({ key: `originals/${String(response.json.id)}/subtitles`, bytes: srt.length, sha256: sha256(srt) });
  });

  const refusals: Array<[string, () => Promise<{ status: number; json: Record<string, unknown> }>, number, string]> = [
    ['the video is larger than the limit (after two multipart parts went to S3)', () => postMultipart(url, fields(), [videoPart(Buffer.concat([video, Buffer.alloc(12 * MiB)]))]), 413, 'file_too_large'],
    ['the declared body is far larger than the limit', () => post(url, Buffer.alloc(10), { 'Content-Type': 'multipart/form-data; boundary=x', 'Content-Length': 10 }).then(async () => {
      const { body, contentType } = multipartBody(fields(), [videoPart()]);
      return post(url, Readable.from([body]), { 'Content-Type': contentType, 'Content-Length': 50 * 1024 * 1024 });
    }), 413, 'file_too_large'],
    ['the file is not a video', () => postMultipart(url, fields(), [videoPart(Buffer.from('%PDF-1.7 not a video at all'.repeat(300)))]), 415, 'unsupported_file_type'],
    ['the file is an image', () => postMultipart(url, fields(), [videoPart(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.alloc(9000)]))]), 415, 'unsupported_file_type'],
    ['the subtitle file is binary', () => postMultipart(url, fields(), [videoPart(), { field: 'subtitles', filename: 's.srt', content: video.subarray(0, 3000) }]), 415, 'unsupported_subtitle_type'],
    ['the subtitle file is too large', () => postMultipart(url, fields(), [videoPart(), { field: 'subtitles', filename: 's.srt', content: Buffer.alloc(5000, 'a') }]), 413, 'subtitle_too_large'],
    ['no video is sent', () => postMultipart(url, fields(), []), 400, 'video_missing'],
    ['consent is missing', () => postMultipart(url, fields({ consent: undefined }), [videoPart()]), 400, 'consent_missing'],
    ['a consent statement is not agreed to', () => postMultipart(url, fields({ consent: demoConsent('be', ['record', 'publish']) }), [videoPart()]), 400, 'consent_incomplete'],
    ['the consent text version is outdated', () => postMultipart(url, fields({ consent: demoConsent('be', ['record', 'publish', 'risk'], 0 + 7) }), [videoPart()]), 409, 'consent_outdated'],
    ['consent is not JSON', () => postMultipart(url, fields({ consent: 'yes' }), [videoPart()]), 400, 'invalid_fields'],
    ['the campaign is unknown (fields first)', () => postMultipart(url, fields({ campaign: 'nope' }), [videoPart()]), 404, 'campaign_not_found'],
    ['the campaign is closed (fields first)', () => postMultipart(url, fields({ campaign: 'closed' }), [videoPart()]), 403, 'campaign_closed'],
    ['the campaign has ended', () => postMultipart(url, fields({ campaign: 'ended' }), [videoPart()]), 403, 'campaign_closed'],
    ['a field is invalid', () => postMultipart(url, fields({ country: 'Belarus', contactEmail: 'not-an-email' }), [videoPart()]), 400, 'invalid_fields'],
    ['an unknown field is sent', () => postMultipart(url, fields({ ip: '10.0.0.1' }), [videoPart()]), 400, 'invalid_fields'],
    ['an unexpected file field is sent', () => postMultipart(url, fields(), [videoPart(), { field: 'photo', filename: 'a.jpg', content: Buffer.alloc(10) }]), 413, 'unexpected_file'],
    ['two videos are sent', () => postMultipart(url, fields(), [videoPart(), videoPart()]), 413, 'unexpected_file'],
    ['a field is too long', () => postMultipart(url, fields({ message: 'x'.repeat(9000) }), [videoPart()]), 413, 'field_too_long'],
    ['the body is not multipart', () => post(url, Buffer.from('{"campaign":"demo"}'), { 'Content-Type': 'application/json' }), 415, 'not_multipart'],
    ['the multipart body is cut short', () => {
      const { body, contentType } = multipartBody(fields(), [videoPart()]);
      const cut = body.subarray(0, body.length - 200);
      return post(url, cut, { 'Content-Type': contentType, 'Content-Length': cut.length });
    }, 400, 'malformed_multipart'],
    ['the boundary is missing', () => post(url, Buffer.from('garbage'), { 'Content-Type': 'multipart/form-data' }), 400, 'malformed_multipart'],
  ];

  test.each(refusals)('when %s, then it is refused with a specific problem and nothing is stored', async (_what, send, status, code) => {
    const response = await send();
    expect({ status: response.status, code: response.json.code }).toEqual({ status, code });
    expect(typeof response.json.title).toBe('string');
    await expectNothingStored(app);
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
  });

  test('when the file comes before the fields and the campaign is closed, then it is refused and the stored clip removed', async () => {
    const { campaign, ...rest } = fields({ campaign: 'closed' });
    const { body, contentType } = multipartBody({}, [videoPart()]);
    // fields after the file: rebuild by hand so the file part is first
    const tail = multipartBody({ campaign: campaign ?? '', ...rest });
    const boundary = contentType.split('boundary=')[1] ?? '';
    const tailBoundary = tail.contentType.split('boundary=')[1] ?? '';
    const merged = Buffer.concat([
      body.subarray(0, body.length - `--${boundary}--\r\n`.length),
      Buffer.from(tail.body.toString('latin1').replaceAll(tailBoundary, boundary), 'latin1'),
    ]);
    const response = await post(url, merged, { 'Content-Type': contentType, 'Content-Length': merged.length });
    expect(response.json.code).toBe('campaign_closed');
    await expectNothingStored(app);
  });

  test('when a closed campaign is named before the clip, then the refusal arrives while the clip is still being sent', async () => {
    const { body, contentType } = multipartBody(fields({ campaign: 'closed' }), [videoPart(Buffer.concat([video, Buffer.alloc(11 * MiB)]))]);
    const http = await import('node:http');
    const answer = await new Promise<{ status: number; code: string; sentBytes: number }>((resolve, reject) => {
      let sentBytes = 0;
      const req = http.request(url, { method: 'POST', headers: { 'Content-Type': contentType, 'Content-Length': body.length } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, code: (JSON.parse(Buffer.concat(parts).toString()) as { code: string }).code, sentBytes });
          req.destroy();
        });
      });
      req.on('error', reject);
      // Send the first megabyte only, then wait: the answer must not need the rest.
      sentBytes = MiB;
      req.write(body.subarray(0, MiB));
    });
    expect(answer).toEqual({ status: 403, code: 'campaign_closed', sentBytes: MiB });
    await expectNothingStored(app);
  });

  test('when the client disconnects mid-upload, then the S3 upload is aborted, nothing is stored and the server stays healthy', async () => {
    // A video head that passes the container check, then filler: the connection drops after 8 MiB,
    // when the first 5 MiB part is already in S3, so the multipart upload itself must be aborted.
    const { body, contentType } = multipartBody(fields(), [videoPart(Buffer.concat([video.subarray(0, 4096), Buffer.alloc(11 * MiB, 7)]))]);
    const http = await import('node:http');
    const req = http.request(url, { method: 'POST', headers: { 'Content-Type': contentType, 'Content-Length': body.length } });
    req.on('error', () => undefined);
    await new Promise<void>((resolve) => req.write(body.subarray(0, 8 * MiB), () => resolve()));
    // The drop comes once the first part is in S3 (so there is a multipart upload to abort, not merely none begun).
    await waitUntil(async () => (await partsStored(app)) > 0, { timeoutMs: 10_000, what: 'the first 5 MiB part of the upload stored in S3' });
    req.destroy();
    await waitUntil(async () => JSON.stringify(await storedState(app)) === JSON.stringify({ objects: [], pendingMultipartUploads: 0, submissions: 0 }), {
      timeoutMs: 10_000,
      what: 'the aborted upload to leave nothing stored (objects, multipart uploads, submissions)',
      seen: () => storedState(app),
    });
    expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
  });

  test('when 200 malformed multipart requests arrive in a row, then the server stays up, memory and open files return to baseline, and nothing is stored', async () => {
    const openFiles = async () => (await import('node:fs/promises')).readdir('/proc/self/fd').then((fds) => fds.length);
    const baseline = { fds: await openFiles(), rss: process.memoryUsage().rss };
    const broken = [
      (b: Buffer) => b.subarray(0, Math.floor(b.length / 2)),
      (b: Buffer) => Buffer.from(b.toString('latin1').replace(/Content-Disposition: form-data; name="video"/, 'Content-Disposition: form-data'), 'latin1'),
      (b: Buffer) => Buffer.from(b.toString('latin1').replace(/\r\n\r\n/, '\r\n'), 'latin1'),
      (b: Buffer) => Buffer.concat([b.subarray(0, 300), Buffer.from('--garbage\r\n\r\n\r\n')]),
    ];
    const { body, contentType } = multipartBody(fields(), [videoPart()]);
    const codes = new Set<string>();
    for (let i = 0; i < 200; i += 1) {
      const bad = broken[i % broken.length]!(body);
      const response = await post(url, bad, { 'Content-Type': contentType, 'Content-Length': bad.length });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      codes.add(String(response.json.code));
    }
    expect([...codes].every((code) => ['malformed_multipart', 'video_missing', 'unsupported_file_type', 'upload_aborted', 'consent_missing', 'invalid_fields'].includes(code))).toBe(true);
    await expectNothingStored(app);
    expect((await fetch(`${app.baseUrl}/readyz`)).status).toBe(200);
    await waitUntil(async () => (await openFiles()) <= baseline.fds + 5, { timeoutMs: 10_000, what: `open files back to ${baseline.fds} + 5`, seen: openFiles });
    expect(process.memoryUsage().rss - baseline.rss).toBeLessThan(100 * 1024 * 1024);
  });

  test('the API describes itself in an OpenAPI document covering every route that is not a page: found by walking the router, method by method', async () => {
    const doc = (await (await fetch(`${app.baseUrl}/api/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const routes = apiRoutes(createApp(app.deps));
    // The walk finds them all (a broken walk must not pass by finding nothing).
    expect(routes).toEqual(expect.arrayContaining(['post /api/submissions', 'post /api/submissions/{id}/withdraw', 'post /api/qr', 'post /tus', 'patch /tus/{id}', 'put /tus/{id}/subtitles', 'post /staff/api/campaigns/{slug}/consent']));
    const undocumented = routes.filter((route) => {
      const [method, path] = route.split(' ') as [string, string];
      return !doc.paths[path]?.[method];
    });
    expect(undocumented).toEqual([]);
    // The tus handler's own routes (HEAD, DELETE, OPTIONS on the catch-all) are described too.
    expect(Object.keys(doc.paths['/tus/{id}']!).sort()).toEqual(['delete', 'head', 'options', 'patch']);
  });

  test('a campaign can be read with its current consent text', async () => {
    const response = await fetch(`${app.baseUrl}/api/campaigns/demo`);
    const body = (await response.json()) as { open: boolean; consent: { version: number; texts: { language: string }[] } };
    expect(body.open).toBe(true);
    expect(body.consent.version).toBe(1);
    expect(body.consent.texts.map((t) => t.language).sort()).toEqual(['be', 'en', 'ru', 'uk']);
    expect((await fetch(`${app.baseUrl}/api/campaigns/none`)).status).toBe(404);
  });
});

/** Parts S3 holds for the bucket's unfinished multipart uploads. */
async function partsStored(app: TestApp): Promise<number> {
  const { client, bucket } = app.services.storage;
  const uploads = (await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
  const parts = await Promise.all(uploads.map((u) => client.send(new ListPartsCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }))));
  return parts.reduce((sum, p) => sum + (p.Parts ?? []).length, 0);
}

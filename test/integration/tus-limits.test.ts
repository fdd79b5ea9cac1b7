import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import * as tus from 'tus-js-client';
import { smallMp4 } from '../helpers/fixtures';
import { multipartBody } from '../helpers/multipart';
import { demoConsent, seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { waitUntil } from '../helpers/wait-until';
import { createUpload, headUpload, ownerHeaders, ownerHeadersOf, rawPatch, tusHeaders, uploadMetadata, type RawAnswer } from '../helpers/tus-requests';

const MiB = 1024 * 1024;
const codeOf = (body: string) => (JSON.parse(body) as { code: string }).code;

describe('resumable uploads have the multipart API defences: the cap on uploads in flight, refusals at once', () => {
  const CAP = 5;
  const CLIENTS = 50;
  let app: TestApp;
  // The server's connections, to see what it has read of a request.
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    app = await startTestApp({ UPLOAD_MAX_IN_FLIGHT: String(CAP), UPLOAD_PART_BYTES: String(5 * MiB) });
    app.server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await seedDemoCampaign(app.deps);
    await seedDemoCampaign(app.deps, { slug: 'closed-one', status: 'closed' });
  });
  afterAll(async () => {
    await app.close();
  });

  /** `count` PATCHes that send 64 KiB of a declared MiB and hold the rest back (each on an upload of its own). */
  async function slowPatches(count: number) {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) ids.push((await createUpload(app.baseUrl, MiB, uploadMetadata().metadata)).id!);
    const head = Buffer.concat([await smallMp4(), randomBytes(64 * 1024)]).subarray(0, 64 * 1024);
    return ids.map((id) => rawPatch(app.baseUrl, id, 0, head, { declared: MiB }));
  }

  test(`when ${CLIENTS} slow PATCHes arrive at once with room for ${CAP}, then the others get 503 server_busy + Retry-After at once, and the slots come back when the ${CAP} end`, async () => {
    const patches = await slowPatches(CLIENTS);
    const answers: RawAnswer[] = [];
    for (const patch of patches) void patch.answer.then((answer) => answers.push(answer), () => undefined);
    // The refusals come while the 5 still hold their slots (their bodies are not done).
    await waitUntil(() => answers.length >= CLIENTS - CAP, { timeoutMs: 20_000, what: `${CLIENTS - CAP} refusals`, seen: () => `${answers.length} answers` });
    expect(answers.length).toBe(CLIENTS - CAP);
    for (const answer of answers) {
      expect({ status: answer.status, code: codeOf(answer.body) }).toEqual({ status: 503, code: 'server_busy' });
      expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
      expect(answer.headers.connection).toBe('close');
    }
    for (const patch of patches) patch.stop();
    // The slots are given back: a whole upload goes through.
    const clip = await smallMp4();
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    expect((await rawPatch(app.baseUrl, id!, 0, clip).answer).status).toBe(200);
  }, 60_000);

  test('when tus-js-client is refused 503 server_busy, then it retries after a delay and completes once a slot is free', async () => {
    const holders = await slowPatches(CAP);
    await Promise.all(holders.map((holder) => holder.written));
    const clip = await smallMp4();
    const refusals: number[] = [];
    const { metadata } = uploadMetadata();
    const done = new Promise<void>((resolve, reject) => {
      const upload = new tus.Upload(clip, {
        endpoint: `${app.baseUrl}/tus`,
        metadata,
        headers: ownerHeadersOf(metadata),
        retryDelays: [200, 500, 1000, 2000, 4000],
        onShouldRetry: (error) => {
          refusals.push(error.originalResponse?.getStatus() ?? 0);
          // The slots are freed after the first refusal.
          for (const holder of holders) holder.stop();
          return true;
        },
        onSuccess: () => resolve(),
        onError: reject,
      });
      upload.start();
    });
    await done;
    expect(refusals[0]).toBe(503);
  }, 60_000);

  async function creation(headers: Record<string, string>, overrides: Record<string, string> = {}) {
    const metadata = Object.entries(uploadMetadata(overrides).metadata)
      .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
      .join(',');
    const response = await fetch(`${app.baseUrl}/tus`, { method: 'POST', headers: { ...tusHeaders, 'Upload-Metadata': metadata, ...headers } });
    const body = await response.text();
    return { status: response.status, body, location: response.headers.get('location') };
  }

  test.each([
    ['a closed campaign', { 'Upload-Length': '1000' }, { campaign: 'closed-one' }, 403, 'campaign_closed'],
    ['consent missing', { 'Upload-Length': '1000' }, { consent: '' }, 400, 'consent_missing'],
    ['a size over the limit', { 'Upload-Length': String(10 * 1024 * 1024 * 1024) }, {}, 413, 'file_too_large'],
    ['a deferred size (Upload-Defer-Length)', { 'Upload-Defer-Length': '1' }, {}, 400, 'length_required'],
  ])('when an upload is created with %s, then it is refused at once with a clear problem, and nothing is stored', async (_what, headers, overrides, status, code) => {
    const before = await app.services.storage.list('originals/');
    const answer = await creation(headers, overrides);
    expect({ status: answer.status, code: codeOf(answer.body), location: answer.location }).toEqual({ status, code, location: null });
    expect(await app.services.storage.list('originals/')).toEqual(before);
  });

  test('when an upload is created with Upload-Concat (parallel uploads), then it is refused: not supported', async () => {
    const answer = await creation({ 'Upload-Length': '1000', 'Upload-Concat': 'partial' });
    expect({ status: answer.status, code: codeOf(answer.body) }).toEqual({ status: 501, code: 'concatenation_not_supported' });
    expect(answer.location).toBeNull();
  });

  test('when a PATCH comes with an offset other than the server\'s, then it is answered 409 at once, and the upload is unchanged', async () => {
    const clip = await smallMp4();
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    expect((await rawPatch(app.baseUrl, id!, 0, clip.subarray(0, 1000)).answer).status).toBe(204);
    const wrong = await rawPatch(app.baseUrl, id!, 500, clip.subarray(500, 2000)).answer;
    expect({ status: wrong.status, code: codeOf(wrong.body) }).toEqual({ status: 409, code: 'upload_offset_mismatch' });
    expect(await headUpload(app.baseUrl, id!)).toMatchObject({ status: 200, offset: 1000 });
    const unknown = await rawPatch(app.baseUrl, 'a'.repeat(24), 0, clip.subarray(0, 1000)).answer;
    expect({ status: unknown.status, code: codeOf(unknown.body) }).toEqual({ status: 404, code: 'upload_not_found' });
  });

  test('when a PATCH without a declared length (chunked) brings more bytes than the upload has left, then it is refused 413 upload_length_exceeded, and no submission is made by that request', async () => {
    const clip = Buffer.concat([await smallMp4(), randomBytes(MiB)]);
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    const target = new URL(`${app.baseUrl}/tus/${id!}`);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'PATCH', headers: { ...tusHeaders, ...ownerHeaders(id!), 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Transfer-Encoding': 'chunked' } });
      req.on('error', reject);
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.write(clip);
      req.end(randomBytes(64 * 1024));
    });
    expect({ status: answer.status, code: codeOf(answer.body) }).toEqual({ status: 413, code: 'upload_length_exceeded' });
    expect(await app.services.db.submissions.findById(id).lean()).toBeNull();
    // What fitted is kept (never more than the upload's length).
    expect((await headUpload(app.baseUrl, id!)).offset).toBeLessThanOrEqual(clip.length);
  });

  test('when a second PATCH comes for an upload another PATCH still holds, then the first lets go keeping what it had, and the second is told the offset no longer matches (409)', async () => {
    const clip = Buffer.concat([await smallMp4(), randomBytes(3 * MiB)]);
    const { id } = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    const before = new Map([...sockets].map((socket) => [socket, socket.bytesRead]));
    const first = rawPatch(app.baseUrl, id!, 0, clip.subarray(0, MiB), { declared: clip.length });
    await first.written;
    // The first request's bytes have been read by the server before the second arrives.
    await waitUntil(() => [...sockets].some((socket) => socket.bytesRead - (before.get(socket) ?? 0) >= MiB), { timeoutMs: 10_000, what: "the first PATCH's MiB read by the server" });
    const second = await rawPatch(app.baseUrl, id!, 0, clip.subarray(0, 2 * MiB)).answer;
    const firstAnswer = await first.answer;
    first.stop();
    expect({ status: firstAnswer.status, offset: firstAnswer.headers['upload-offset'] }).toEqual({ status: 204, offset: String(MiB) });
    expect({ status: second.status, code: codeOf(second.body) }).toEqual({ status: 409, code: 'upload_offset_mismatch' });
    expect(await headUpload(app.baseUrl, id!)).toMatchObject({ status: 200, offset: MiB });
  }, 30_000);
});

describe('resumable uploads count against the per-client rate limits', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT_UPLOADS: '2', RATE_LIMIT_REQUESTS: '4' });
    await seedDemoCampaign(app.deps);
  });
  afterAll(async () => {
    await app.close();
  });

  test('when a client creates more uploads than RATE_LIMIT_UPLOADS, or sends more HEAD/PATCH requests than RATE_LIMIT_REQUESTS, then it gets 429 too_many_requests with Retry-After', async () => {
    const clip = await smallMp4();
    const first = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    expect(first.status).toBe(201);
    expect((await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata)).status).toBe(201);
    const third = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    expect({ status: third.status, code: codeOf(third.body), retryAfter: Number(third.headers.get('retry-after')) > 0 }).toEqual({ status: 429, code: 'too_many_requests', retryAfter: true });

    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await headUpload(app.baseUrl, first.id!)).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    const over = await rawPatch(app.baseUrl, first.id!, 0, clip).answer;
    expect({ status: over.status, code: codeOf(over.body), retryAfter: Number(over.headers['retry-after']) > 0 }).toEqual({ status: 429, code: 'too_many_requests', retryAfter: true });
  });
});

describe('one upload budget for both ways of sending a clip', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT_UPLOADS: '2' });
    await seedDemoCampaign(app.deps);
  });
  afterAll(async () => {
    await app.close();
  });

  test('when a client has sent RATE_LIMIT_UPLOADS clips as multipart, then a resumable upload is refused too (429), and the other way round', async () => {
    const clip = await smallMp4();
    const { body, contentType } = multipartBody(
      { campaign: 'demo', organisation: 'BNP', country: 'BY', language: 'be', title: 'Салідарнасць', consent: demoConsent('be') },
      [{ field: 'video', filename: 'clip.mp4', content: clip }],
    );
    const multipart = () => fetch(`${app.baseUrl}/api/submissions`, { method: 'POST', headers: { 'content-type': contentType }, body: new Blob([new Uint8Array(body)]) });
    expect((await multipart()).status).toBe(202);
    expect((await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata)).status).toBe(201);
    // Two clips sent, one each way: the third is refused both ways.
    const tus = await createUpload(app.baseUrl, clip.length, uploadMetadata().metadata);
    expect({ status: tus.status, code: tus.body ? codeOf(tus.body) : null }).toEqual({ status: 429, code: 'too_many_requests' });
    const again = await multipart();
    const text = await again.text();
    expect({ status: again.status, code: text ? codeOf(text) : null }).toEqual({ status: 429, code: 'too_many_requests' });
  });
});

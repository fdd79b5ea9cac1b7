import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import type { Submission } from '../../shared/submissions/submission.model';
import { runCli } from '../../server/cli/cli';
import { smallMp4 } from '../helpers/fixtures';
import { postMultipart } from '../helpers/multipart';
import { expectNothingLeft } from '../helpers/nothing-left';
import { workerDeps } from '../helpers/worker-env';
import { takedownJobId } from '../../shared/queue/queue';
import { takedownSubmission } from '../../worker/handlers/takedown-submission.handler';
import { demoConsent, seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

/** The contributors' pages and their small APIs over HTTP: headers, languages, the honeypot, the QR code. */
describe("contributors' pages over HTTP", () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
    await seedDemoCampaign(app.deps);
  });

  afterAll(async () => {
    await app.close();
  });

  function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = request(`${app.baseUrl}${path}`, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  test.each([
    ['be-BY,be;q=0.9', undefined, 'be', 'Адправіць відэа'],
    ['ru', undefined, 'ru', 'Отправить видео'],
    ['uk-UA', undefined, 'uk', 'Надіслати відео'],
    ['de-DE', undefined, 'be', 'Адправіць відэа'],
    ['be', 'en', 'en', 'Send the clip'],
  ])('when Accept-Language is %s and ?lang=%s, then the page is in %s', async (accept, lang, expected, button) => {
    const page = await get(`/c/demo${lang ? `?lang=${lang}` : ''}`, { 'Accept-Language': accept, 'Accept-Encoding': 'gzip' });
    expect(page.status).toBe(200);
    expect(page.headers['content-encoding']).toBe('gzip');
    expect(page.headers['x-robots-tag']).toBe('noindex, nofollow');
    expect(page.headers['content-language']).toBe(expected);
    expect(page.headers['set-cookie']).toBeUndefined();
    const html = gunzipSync(page.body).toString('utf8');
    expect(html).toContain(`<html lang="${expected}">`);
    expect(html).toContain(button);
    expect(html).toContain('<meta name="robots" content="noindex, nofollow"/>');
    // Nothing from another site: every src and href is local.
    for (const [, url] of html.matchAll(/(?:src|href)="([^"]*)"/g)) expect(url).toMatch(/^(\/|#|\?|$)/);
  });

  test('when the campaign does not exist, then a 404 page says so in the browser language', async () => {
    const page = await get('/c/nope', { 'Accept-Language': 'uk' });
    expect(page.status).toBe(404);
    expect(page.body.toString('utf8')).toContain('За цією адресою немає кампанії');
  });

  test('when the honeypot field is filled, then the upload is refused and nothing is stored', async () => {
    const before = await app.services.db.submissions.countDocuments();
    const response = await postMultipart(
      `${app.baseUrl}/api/submissions`,
      { campaign: 'demo', organisation: 'Bot', country: 'BY', language: 'en', title: 'x', consent: demoConsent(), website: 'http://spam.example' },
      [{ field: 'video', filename: 'a.mp4', content: await smallMp4() }],
    );
    expect(response.status).toBe(400);
    expect((response.json as { code: string }).code).toBe('rejected');
    expect(await app.services.db.submissions.countDocuments()).toBe(before);
    // And an empty honeypot is fine.
    const ok = await postMultipart(
      `${app.baseUrl}/api/submissions`,
      { campaign: 'demo', organisation: 'Union', country: 'BY', language: 'en', title: 'x', consent: demoConsent(), website: '' },
      [{ field: 'video', filename: 'a.mp4', content: await smallMp4() }],
    );
    expect(ok.status).toBe(202);
    const doc = await app.services.db.submissions.findById((ok.json as { id: string }).id).lean<Submission>();
    expect(doc).not.toHaveProperty('website');
  });

  test('when the receipt asks for its QR code, then it gets a path; a non-link or an oversized body is refused', async () => {
    const qr = await fetch(`${app.baseUrl}/api/qr`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'http://x.test/s/abc#token' }) });
    expect(qr.status).toBe(200);
    const body = (await qr.json()) as { size: number; path: string };
    expect(body.size).toBeGreaterThan(20);
    expect(body.path).toMatch(/^(M\d+ \d+h1v1h-1z)+$/);
    const bad = await fetch(`${app.baseUrl}/api/qr`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'javascript:alert(1)' }) });
    expect(bad.status).toBe(400);
    const big = await fetch(`${app.baseUrl}/api/qr`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: `http://${'a'.repeat(5000)}` }) });
    expect(big.status).toBeGreaterThanOrEqual(400);
    expect(big.status).toBeLessThan(500);
  });

  test('when an asset is asked for with gzip, then it comes gzipped from this server, cacheable', async () => {
    const js = await get('/c-assets/tus.js', { 'Accept-Encoding': 'gzip' });
    expect(js.status).toBe(200);
    expect(js.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(js.body).length).toBeGreaterThan(js.body.length);
    expect(js.headers['cache-control']).toBe('public, max-age=3600');
  });

  test('when a contributor withdraws with the status token, then the clip is withdrawn and its objects removed; a wrong token is refused; twice changes nothing', async () => {
    const upload = await postMultipart(
      `${app.baseUrl}/api/submissions`,
      { campaign: 'demo', organisation: 'Union', country: 'UA', language: 'uk', title: 'x', consent: demoConsent() },
      [{ field: 'video', filename: 'a.mp4', content: await smallMp4() }],
    );
    const { id, statusToken } = upload.json as { id: string; statusToken: string };
    const withdraw = (token: string) => fetch(`${app.baseUrl}/api/submissions/${id}/withdraw`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    const wrong = await withdraw('A'.repeat(43));
    expect(wrong.status).toBe(404);
    expect((await app.services.db.submissions.findById(id).lean<Submission>())!.status).toBe('received');
    const none = await fetch(`${app.baseUrl}/api/submissions/${id}/withdraw`, { method: 'POST' });
    expect(none.status).toBe(401);
    for (let i = 0; i < 2; i += 1) {
      const ok = await withdraw(statusToken);
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { status: string }).status).toBe('withdrawn');
    }
    expect(await app.services.storage.list(`originals/${id}/`)).toEqual([]);
    // The takedown the withdrawal queued leaves nothing but what the audit needs.
    expect(await app.services.queue.jobState(takedownJobId(id))).toBe('waiting');
    await takedownSubmission(workerDeps(app), { id: takedownJobId(id), name: 'takedown-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined });
    await expectNothingLeft(app, id, 'declined');
  });

  test('when the status page is asked for, then it is not indexed, not cached, and holds no token', async () => {
    const page = await get('/s/0123456789abcdef01234567', { 'Accept-Language': 'be' });
    expect(page.status).toBe(200);
    expect(page.headers['x-robots-tag']).toBe('noindex, nofollow');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body.toString('utf8')).toContain('Стан вашага відэа');
    expect((await get('/s/not-an-id')).status).toBe(404);
  });

  test("when a union's link is made from the command line, then its page fills in the organisation and country, uploads through it carry them, and once revoked it is refused", async () => {
    const lines: string[] = [];
    expect(await runCli(['campaigns', 'link', 'demo', 'Незалежны прафсаюз гарнякоў', 'by'], app.services, (line) => lines.push(line), { config: app.config })).toBe(0);
    const [, linkId, path] = /^link (\w+) for .*: (\/c\/demo\/u\/[\w-]+)$/.exec(lines[0]!)!;
    const token = path!.split('/').pop()!;
    const page = await get(path!, { 'Accept-Language': 'be' });
    expect(page.status).toBe(200);
    const html = page.body.toString('utf8');
    expect(html).toContain('<bdi>Незалежны прафсаюз гарнякоў</bdi> · BY'); // isolated: a name cannot turn what follows around
    expect(html).not.toContain('id="organisation"');

    // Through the link, whatever organisation is sent, the link's is stored.
    const send = (fields: Record<string, string>) =>
      postMultipart(`${app.baseUrl}/api/submissions`, { campaign: 'demo', language: 'be', title: 'x', consent: demoConsent(), link: token, ...fields }, [
        { field: 'video', filename: 'a.mp4', content: smallClip },
      ]);
    const smallClip = await smallMp4();
    const ok = await send({ organisation: 'Someone else', country: 'DE' });
    expect(ok.status).toBe(202);
    const doc = (await app.services.db.submissions.findById((ok.json as { id: string }).id).lean<Submission>())!;
    expect([doc.organisation, doc.country]).toEqual(['Незалежны прафсаюз гарнякоў', 'BY']);
    // Without a link, organisation and country are required.
    const missing = await postMultipart(`${app.baseUrl}/api/submissions`, { campaign: 'demo', language: 'be', title: 'x', consent: demoConsent() }, [
      { field: 'video', filename: 'a.mp4', content: smallClip },
    ]);
    expect(missing.status).toBe(400);
    expect((missing.json as { errors: Array<{ field: string }> }).errors.map((e) => e.field).sort()).toEqual(['country', 'organisation']);

    expect(await runCli(['campaigns', 'revoke-link', 'demo', linkId!], app.services, () => undefined, { config: app.config })).toBe(0);
    const revoked = await send({});
    expect(revoked.status).toBe(403);
    expect((revoked.json as { code: string }).code).toBe('link_revoked');
    const gone = await get(path!, { 'Accept-Language': 'ru' });
    expect(gone.status).toBe(403);
    expect(gone.body.toString('utf8')).toContain('Кампания отозвала эту ссылку');
    const unknown = await send({ link: 'x'.repeat(24) });
    expect((unknown.json as { code: string }).code).toBe('link_not_found');
  });
});

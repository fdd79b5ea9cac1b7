import type { Socket } from 'node:net';
import type { CDPSession, Page } from 'playwright-core';
import type { Submission } from '../../shared/submissions/submission.model';
import { launchContribBrowser, type ContribBrowser } from '../helpers/contrib-browser';
import { makeFixture } from '../helpers/fixtures';
import { expectNothingLeft } from '../helpers/nothing-left';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { waitUntil } from '../helpers/wait-until';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';

/**
 * Uploads that survive bad networks, in real Chromium: the connection cut at about half, and the page
 * reloaded mid-upload; both complete, and the server receives hardly more bytes than the file has
 * (counted on the server: the bodies of every PATCH to /tus).
 */
describe('resumable uploads in a real browser', () => {
  let app: TestApp;
  let chrome: ContribBrowser;
  let clip: string;
  let size: number;
  // Bytes the server read from the browser's connections (headers included; a few hundred bytes per request).
  // Counted on the sockets: a 'data' listener on a request would take bytes away from the tus handler.
  const sockets = new Set<Socket>();
  let closedBytes = 0;
  let baseline = 0;
  const readSoFar = () => closedBytes + [...sockets].reduce((sum, socket) => sum + socket.bytesRead, 0);
  const received = () => readSoFar() - baseline;

  beforeAll(async () => {
    app = await startTestApp({ UPLOAD_PART_BYTES: String(5 * 1024 * 1024) });
    await seedDemoCampaign(app.deps);
    app.server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => {
        sockets.delete(socket);
        closedBytes += socket.bytesRead;
      });
    });
    chrome = await launchContribBrowser(app.baseUrl);
    // About 20 MiB of valid H.264 (lossless, so large for its length).
    clip = await makeFixture('contrib-resume-noise.mp4', [
      '-f', 'lavfi', '-i', 'testsrc2=duration=3:size=640x360:rate=25', '-vf', 'noise=alls=60:allf=t',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv420p',
    ]);
    size = (await stat(clip)).size;
  });

  afterAll(async () => {
    await chrome?.close();
    await app?.close();
  });

  async function throttled(page: Page, bytesPerSecond: number): Promise<CDPSession> {
    // One CDP session for throttling and going offline (a second session's throttling overrides setOffline).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
    return cdp;
  }

  async function startUpload(page: Page) {
    await page.goto(`${app.baseUrl}/c/demo?lang=en`);
    await page.locator('form[data-ready]').waitFor();
    await page.getByLabel('Your trade union or organisation').fill('Free Trade Union');
    await page.getByLabel('Country').fill('BY');
    await page.getByLabel('A title for your message').fill('Solidarity');
    for (const box of await page.getByRole('checkbox').all()) await box.check();
    await page.getByLabel('Video file').setInputFiles(clip);
    await page.getByRole('button', { name: 'Send the clip' }).click();
  }

  async function receiptId(page: Page): Promise<string> {
    await page.getByRole('heading', { name: 'Thank you — your clip has arrived' }).waitFor({ timeout: 120_000 });
    const link = (await page.getByTestId('receipt-link').textContent())!.trim();
    return /\/s\/([a-f0-9]{24})#/.exec(link)![1]!;
  }

  async function expectStored(id: string) {
    const doc = await waitUntil(() => app.services.db.submissions.findById(id).lean<Submission>(), { timeoutMs: 30_000, what: 'the submission exists' });
    expect(doc.original.bytes).toBe(size);
    expect(doc.original.sha256).toBe(createHash('sha256').update(await readFile(clip)).digest('hex'));
  }

  test('when the connection is cut at about half, then the upload resumes and completes without re-sending what the server stored', async () => {
    expect(size).toBeGreaterThan(10 * 1024 * 1024);
    baseline = readSoFar();
    const { context, page } = await chrome.newPage();
    const cdp = await throttled(page, 4 * 1024 * 1024);
    await startUpload(page);
    await waitUntil(async () => received() >= size / 2, { timeoutMs: 60_000, what: 'half the clip arrived' });
    // Offline (no retry at once), and the connection carrying the upload cut: Chromium's offline emulation
    // alone lets a request already sending finish, and the page sends the clip in one request.
    await cdp.send('Network.emulateNetworkConditions', { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    for (const socket of sockets) socket.destroy();
    await page.getByText('The connection was interrupted; continuing where it stopped…').waitFor({ timeout: 60_000 });
    await chrome.shoot(page, '04-upload-interrupted');
    const atCut = received();
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 8 * 1024 * 1024 });
    const id = await receiptId(page);
    await expectStored(id);
    expect(atCut).toBeLessThan(size);
    // What was received before the cut was not sent again.
    expect(received() / size).toBeLessThanOrEqual(1.05);
    await context.close();
  }, 180_000);

  test('when the page is reloaded mid-upload and the same clip is sent again, then it continues where it stopped', async () => {
    baseline = readSoFar();
    const { context, page } = await chrome.newPage();
    await throttled(page, 4 * 1024 * 1024);
    await startUpload(page);
    await waitUntil(async () => received() >= size * 0.4, { timeoutMs: 60_000, what: '40% of the clip arrived' });
    const before = received();
    await page.reload();
    await startUpload(page);
    // The page found the upload it had started (the message it shows meanwhile may pass too fast to see).
    await page.locator('form[data-resumed]').waitFor({ state: 'attached' });
    const id = await receiptId(page);
    await expectStored(id);
    expect(before).toBeLessThan(size);
    expect(received() / size).toBeLessThanOrEqual(1.05);
    await context.close();
    expect(chrome.problems.filter((p) => !/net::ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(p))).toEqual([]);
  }, 180_000);
  test('when a file that is not a video is sent from the browser in one request, then the browser reads the refusal while most of the body is still to come', async () => {
    const { context, page } = await chrome.newPage();
    await throttled(page, 4 * 1024 * 1024);
    await page.goto(`${app.baseUrl}/c/demo?lang=en`);
    const encode = (value: string) => Buffer.from(value).toString('base64');
    const metadata = [
      ['campaign', 'demo'], ['organisation', 'Free Trade Union'], ['country', 'BY'], ['language', 'en'], ['title', 'Solidarity'],
      ['consent', JSON.stringify({ version: 1, language: 'en', statements: ['record', 'publish', 'risk'] })],
      ['statusTokenHash', createHash('sha256').update('a-token-the-page-made').digest('hex')],
    ].map(([key, value]) => `${key} ${encode(value!)}`).join(',');
    const bytes = 24 * 1024 * 1024;
    baseline = readSoFar();
    const answer = await page.evaluate(async ({ metadata, bytes }) => {
      const created = await fetch('/tus', { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(bytes), 'Upload-Metadata': metadata } });
      const location = created.headers.get('location')!;
      const body = new Blob([new TextEncoder().encode('<html>not a clip</html>'.repeat(Math.ceil(bytes / 23))).slice(0, bytes)]);
      return new Promise<{ status: number; body: string; location: string }>((resolve) => {
        const xhr = new XMLHttpRequest();
        xhr.open('PATCH', location);
        xhr.setRequestHeader('Tus-Resumable', '1.0.0');
        xhr.setRequestHeader('Upload-Offset', '0');
        xhr.setRequestHeader('Authorization', 'Bearer a-token-the-page-made');
        xhr.setRequestHeader('Content-Type', 'application/offset+octet-stream');
        xhr.onload = () => resolve({ status: xhr.status, body: xhr.responseText, location });
        xhr.onerror = () => resolve({ status: 0, body: '', location });
        xhr.send(body);
      });
    }, { metadata, bytes });
    expect([answer.status, (JSON.parse(answer.body || '{}') as { code?: string }).code]).toEqual([415, 'unsupported_file_type']);
    // Answered long before the 24 MiB (6 s at 4 MiB/s) could have arrived.
    expect(received()).toBeLessThan(bytes / 2);
    const id = /([a-f0-9]{24})$/.exec(answer.location)![1]!;
    await expectNothingLeft(app, id, 'none');
    await context.close();
  }, 60_000);
});

import http from 'node:http';
import { smallMp4 } from '../helpers/fixtures';
import { slowUpload } from '../helpers/slow-upload';
import { demoConsent, seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { waitUntil } from '../helpers/wait-until';
import { createLogger } from '../../shared/logger';

const fields = {
  campaign: 'demo',
  organisation: 'Independent Miners Union',
  country: 'BY',
  language: 'en',
  title: 'With you',
  consent: demoConsent('en'),
};

/** GET with plain node:http, so any header can be sent (fetch refuses to set Host) and a local address chosen. */
function get(url: string, headers: Record<string, string> = {}, localAddress?: string) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.get(url, { headers, localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
  });
}

/** A logger whose lines the test can read (at debug: everything the server says). */
function capturedLogger() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', name: 'server', destination: { write: (line: string) => void lines.push(line) } });
  return { logger, lines, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

let video: Buffer;
beforeAll(async () => {
  video = await smallMp4();
});

const upload = (app: TestApp, localAddress?: string) =>
  slowUpload(`${app.baseUrl}/api/submissions`, { fields, parts: [{ field: 'video', filename: 'IMG_1.MOV', head: video }], intervalMs: 0, localAddress });

describe('headers', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ PUBLIC_URL: 'https://clips.example.org' });
    await seedDemoCampaign(app.deps);
  });
  afterAll(async () => {
    await app.close();
  });

  test('every response carries the security headers, with a content security policy, also /api/openapi.json, errors and the upload receipt', async () => {
    const receipt = await upload(app);
    expect(receipt.status).toBe(202);
    const responses = [
      await get(`${app.baseUrl}/api/openapi.json`),
      await get(`${app.baseUrl}/api/campaigns/demo`),
      await get(`${app.baseUrl}/api/nothing-here`),
      await get(`${app.baseUrl}/healthz`),
      receipt,
    ];
    for (const { headers } of responses) {
      const csp = String(headers['content-security-policy']);
      for (const directive of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"]) {
        expect(csp).toContain(directive);
      }
      expect(csp).not.toContain('unsafe-inline');
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['referrer-policy']).toBe('no-referrer');
      expect(headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(headers['permissions-policy']).toContain('geolocation=()');
      expect(headers['x-powered-by']).toBeUndefined();
    }
    // Only a refusal with a body still on its way closes the connection; a GET that failed keeps it.
    const failedGet = await fetch(`${app.baseUrl}/api/nothing-here`);
    expect(failedGet.status).toBe(404);
    expect(failedGet.headers.get('connection')).toBe('keep-alive');
  });

  test('what carries a status token is never cached: the 202 receipt and the status endpoint (answered or refused)', async () => {
    const receipt = await upload(app);
    expect(receipt.status).toBe(202);
    expect(receipt.json.statusToken).toEqual(expect.any(String));
    expect(receipt.headers['cache-control']).toBe('no-store');
    const statusUrl = `${app.baseUrl}/api/submissions/${String(receipt.json.id)}/status`;
    const status = await get(statusUrl, { Authorization: `Bearer ${String(receipt.json.statusToken)}` });
    expect(status.status).toBe(200);
    expect(status.headers['cache-control']).toBe('no-store');
    const refused = await get(statusUrl, { Authorization: `Bearer ${'x'.repeat(43)}` });
    expect(refused.status).toBe(404);
    expect(refused.headers['cache-control']).toBe('no-store');
  });

  test('when the Host header is hostile, then the OpenAPI server URL is still PUBLIC_URL', async () => {
    const response = await get(`${app.baseUrl}/api/openapi.json`, { Host: 'evil.example', 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https' });
    expect((JSON.parse(response.body) as { servers: Array<{ url: string }> }).servers[0]!.url).toBe('https://clips.example.org');
    expect(response.body).not.toContain('evil.example');
  });

  test('when PUBLIC_URL is not set, then the OpenAPI document names no server (clients use where they fetched it), whatever the Host', async () => {
    const bare = await startTestApp();
    try {
      const response = await get(`${bare.baseUrl}/api/openapi.json`, { Host: 'evil.example' });
      const doc = JSON.parse(response.body) as { openapi: string; servers?: unknown };
      expect(doc.openapi).toBe('3.1.0');
      expect(doc.servers).toBeUndefined();
      expect(response.body).not.toContain('evil.example');
    } finally {
      await bare.close();
    }
  });
});

describe('rate limits per client', () => {
  let app: TestApp;
  let logs: ReturnType<typeof capturedLogger>;
  beforeAll(async () => {
    logs = capturedLogger();
    app = await startTestApp({ RATE_LIMIT_UPLOADS: '2', RATE_LIMIT_REQUESTS: '8', RATE_LIMIT_WINDOW_SECONDS: '600' }, undefined, () => ({ logger: logs.logger }));
    await seedDemoCampaign(app.deps);
  });
  afterAll(async () => {
    await app.close();
  });

  test('when one client passes its uploads, then it gets 429 with Retry-After while another client is still taken; the address is nowhere in the logs or the database', async () => {
    // Two clients on two loopback addresses.
    const a = '127.0.0.1';
    const b = '127.0.0.2';
    expect((await upload(app, a)).status).toBe(202);
    expect((await upload(app, a)).status).toBe(202);
    const refused = await upload(app, a);
    expect({ status: refused.status, code: refused.json.code }).toEqual({ status: 429, code: 'too_many_requests' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(500);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(600);
    expect((await upload(app, b)).status).toBe(202);

    // Any /api request counts against RATE_LIMIT_REQUESTS (a has used 3, b 1); health probes do not.
    const campaign = `${app.baseUrl}/api/campaigns/demo`;
    const seen: number[] = [];
    for (let i = 0; i < 6; i += 1) seen.push((await get(campaign, {}, a)).status);
    expect(seen).toEqual([200, 200, 200, 200, 200, 429]);
    expect((await get(`${app.baseUrl}/healthz`, {}, a)).status).toBe(200);
    expect((await get(campaign, {}, b)).status).toBe(200);

    // The logs said plenty (debug), but never an address: not as given, not as an IPv4-mapped IPv6.
    const logText = logs.lines.join('');
    expect(logs.lines.length).toBeGreaterThan(10);
    for (const address of [a, b, '::ffff:127.0.0', '127.0.0.']) expect(logText).not.toContain(address);
    const documents = JSON.stringify(await app.services.db.submissions.find().lean());
    expect(await app.services.db.submissions.countDocuments()).toBe(3);
    expect(documents).not.toContain('127.0.0.');
  });
});

describe('request log lines', () => {
  test('when a contributor polls the status and probes check health, then those lines are debug; an upload and an error are info', async () => {
    const logs = capturedLogger();
    const app = await startTestApp({}, undefined, () => ({ logger: logs.logger }));
    try {
      await seedDemoCampaign(app.deps);
      const receipt = await upload(app);
      const statusUrl = `${app.baseUrl}/api/submissions/${String(receipt.json.id)}/status`;
      for (let i = 0; i < 3; i += 1) await get(statusUrl, { Authorization: `Bearer ${String(receipt.json.statusToken)}` });
      await get(`${app.baseUrl}/readyz`);
      await get(`${app.baseUrl}/api/nothing-here`);
      // The request line is written when the response closes: wait for the last one.
      await waitUntil(() => logs.parsed().filter((l) => l.msg === 'request').length >= 6, { timeoutMs: 5_000, intervalMs: 20, what: 'six request lines logged' });
      const levels = logs
        .parsed()
        .filter((line) => line.msg === 'request')
        .map((line) => [line.route, line.level]);
      expect(levels).toEqual(
        expect.arrayContaining([
          ['/api/submissions', 30],
          ['/api/submissions/:id/status', 20],
          ['/readyz', 20],
          ['unmatched', 30],
        ]),
      );
      expect(levels.filter(([route]) => route === '/api/submissions/:id/status')).toEqual(Array(3).fill(['/api/submissions/:id/status', 20]));
    } finally {
      await app.close();
    }
  });
});

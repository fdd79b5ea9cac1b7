import { connect } from 'node:net';
import { HEADERS_TIMEOUT_MS } from '../../server/http-server';
import { startTestApp, type TestApp } from '../helpers/test-env';

/**
 * A client on a real socket that sends a request's headers, then its body a few bytes at a time.
 * Resolves with what the server answered and how long the connection stayed open (or `stillOpen` after `giveUpMs`).
 */
function trickle(app: TestApp, path: string, options: { bytes: number; everyMs: number; chunk: number; giveUpMs: number; close?: boolean }) {
  const port = new URL(app.baseUrl).port;
  return new Promise<{ answer: string; ms: number; stillOpen: boolean }>((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    const started = Date.now();
    const chunks: Buffer[] = [];
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (stillOpen: boolean) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ answer: Buffer.concat(chunks).toString('utf8'), ms: Date.now() - started, stillOpen });
    };
    const giveUp = setTimeout(() => finish(true), options.giveUpMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => finish(false));
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${options.bytes}\r\n${options.close ? 'Connection: close\r\n' : ''}\r\n`);
      timer = setInterval(() => {
        const size = Math.min(options.chunk, options.bytes - sent);
        if (size <= 0) return clearInterval(timer);
        socket.write('a'.repeat(size));
        sent += size;
      }, options.everyMs);
    });
  });
}

describe('slow request bodies', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ UPLOAD_IDLE_SECONDS: '1' });
  });
  afterAll(async () => {
    await app.close();
  });

  test('when a client trickles a body into POST /staff/login (not an upload), then it is answered 408 body_stalled and the connection closed after the idle period', async () => {
    const result = await trickle(app, '/staff/login', { bytes: 10_000, everyMs: 200, chunk: 5, giveUpMs: 8000 });
    expect(result.stillOpen).toBe(false);
    expect(result.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(result.answer).toContain('"code":"body_stalled"');
    expect(result.ms).toBeLessThan(5000);
  });

  test('when a client keeps trickling a body after an early answer (a 401 page on a kept-alive connection), then the connection is closed after the idle period', async () => {
    const result = await trickle(app, '/staff/api/campaigns', { bytes: 10_000, everyMs: 200, chunk: 5, giveUpMs: 8000 });
    expect(result.answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(result.stillOpen).toBe(false);
    expect(result.ms).toBeLessThan(5000);
  });

  test('when a body is slow but steady (more than 1 KiB per idle period), then it is read and answered as usual', async () => {
    const result = await trickle(app, '/staff/login', { bytes: 6000, everyMs: 250, chunk: 600, giveUpMs: 8000, close: true });
    expect(result.answer).toMatch(/^HTTP\/1\.1 (303|400|403)/);
    expect(result.answer).not.toContain('body_stalled');
  });

  test('when the server listens, then headers and whole requests have time limits', () => {
    expect(app.server.headersTimeout).toBe(HEADERS_TIMEOUT_MS);
    expect(app.server.requestTimeout).toBe(app.config.http.requestTimeoutSeconds * 1000);
    expect(app.server.requestTimeout).toBeGreaterThan(0);
  });
});

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import express from 'express';
import { createLogger } from '../../shared/logger';
import { errorHandler } from '../../server/middleware/error-handler';
import { waitUntil } from '../helpers/wait-until';

/** The one error middleware, in a real Express app on a real socket. */
describe('the error middleware', () => {
  test('when a client hangs up while a stream is being sent (a video player seeking), then nothing is logged as an error', async () => {
    const lines: Array<{ level: number; code?: string }> = [];
    const logger = createLogger({ level: 'debug', name: 'server', destination: { write: (line: string) => void lines.push(JSON.parse(line) as { level: number }) } });
    const app = express();
    let settled!: () => void;
    const done = new Promise<void>((resolve) => (settled = resolve));
    app.get('/media', async (_req, res, next) => {
      // An endless body, a chunk at a time: the client leaves in the middle of it.
      const body = new Readable({ read() { setTimeout(() => this.push(Buffer.alloc(64 * 1024, 1)), 5); } });
      res.set('Content-Type', 'video/mp4');
      await pipeline(body, res).catch(next);
    });
    app.use(errorHandler(logger));
    app.use(() => settled());
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const controller = new AbortController();
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/media`, { signal: controller.signal });
      const reader = response.body!.getReader();
      await reader.read();
      controller.abort();
      await reader.read().catch(() => undefined);
      await Promise.race([done, waitUntil(() => lines.some((line) => line.code === 'client_went_away'), { timeoutMs: 5_000, intervalMs: 20, what: 'the client_went_away log line' })]);
      expect(lines.filter((line) => line.level >= 50)).toEqual([]);
      expect(lines.map((line) => line.code)).toContain('client_went_away');
    } finally {
      server.close();
    }
  });
});


import { once } from 'node:events';
import { statfs } from 'node:fs/promises';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { connectDatabase } from '../../shared/db';
import { countFailures, OPS_COUNTERS } from '../../shared/ops-counters';
import { createObjectStorage } from '../../shared/storage/object-storage';
import { JOB_FOLDER_REPORT_MAX_AGE_MS } from '../../server/services/metrics.service';
import { reportJobFolder } from '../../worker/job-folder-report';
import { testClock } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { waitUntil } from '../helpers/wait-until';
import { submitFile } from '../helpers/worker-env';
import { cleanWorkDir, ownWorkDir, workerProcesses } from '../helpers/worker-processes';

const TOKEN = 'a-scraper-token-of-at-least-32-characters';
const ROOT = join(__dirname, '..', '..');

/** The figures the alerts (infra/prometheus/alerts.yml) and the dashboard (infra/grafana/) read, from the real /metrics. */
describe('the metrics the alerts read', () => {
  let app: TestApp;
  const clock = testClock();
  const workers = workerProcesses(() => app);

  beforeAll(async () => {
    app = await startTestApp({ METRICS_BEARER_TOKEN: TOKEN }, clock.now);
    await seedDemoCampaign(app.deps);
  });

  afterAll(async () => {
    await app.close();
  });

  const scrape = async () => {
    const answer = await fetch(`${app.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(answer.status).toBe(200);
    return answer.text();
  };
  const value = (text: string, series: string): number | null => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? null : Number(line.slice(series.length + 1));
  };

  test('when a real worker process runs, then its job folder is reported through Redis within seconds of its start', async () => {
    // First in the file: the app's clock (a report's age) is moved on by the tests after it.
    const workDir = ownWorkDir();
    const worker = workers.start({ WORK_DIR: workDir });
    try {
      const series = `solidarity_job_folder_used_ratio{worker="${hostname()}"}`;
      await waitUntil(async () => value(await scrape(), series) !== null, { timeoutMs: 30_000, what: "the worker's job folder report" });
      expect(worker.exitCode).toBeNull();
    } finally {
      await workers.stopAll();
      await cleanWorkDir(workDir);
    }
  }, 40_000);

  test('when a job waits for a worker and clips sit in processing and releasing, then the oldest ages are reported', async () => {
    let text = await scrape();
    expect(value(text, 'solidarity_oldest_clip_in_state_seconds{state="processing"}')).toBe(0);
    await app.deps.queue.enqueue('deliver-webhook', { deliveryId: 'a'.repeat(24) });
    const processing = await submitFile(app, Buffer.from('not a video'));
    const releasing = await submitFile(app, Buffer.from('not a video either'));
    const now = Date.now();
    await app.services.db.submissions.updateOne({ _id: processing }, { $set: { status: 'processing', 'processing.startedAt': new Date(now - 2 * 3600_000) } });
    await app.services.db.submissions.updateOne(
      { _id: releasing },
      { $set: { status: 'releasing', release: { outputs: {}, languages: [], uses: [], credit: false, startedAt: new Date(now - 3600_000), finishedAt: null, lastError: null } } },
    );
    // 20 minutes later (the database figures are read at most once a minute: this is a new minute).
    clock.advance(20 * 60_000);
    text = await scrape();
    const waited = value(text, 'solidarity_oldest_waiting_job_age_seconds{job="deliver-webhook"}')!;
    expect(waited).toBeGreaterThanOrEqual(1200);
    expect(waited).toBeLessThan(1260);
    expect(value(text, 'solidarity_oldest_clip_in_state_seconds{state="processing"}')).toBeGreaterThanOrEqual(2 * 3600 + 1200);
    expect(value(text, 'solidarity_oldest_clip_in_state_seconds{state="releasing"}')).toBeGreaterThanOrEqual(3600 + 1200);
    expect(value(text, 'solidarity_oldest_clip_in_state_seconds{state="releasing"}')).toBeLessThan(3600 + 1260);
    // Taken by a worker (here: removed): no longer waiting.
    expect(await app.deps.queue.cancel(`webhook-${'a'.repeat(24)}`)).toBe('removed');
    expect(await scrape()).not.toContain('solidarity_oldest_waiting_job_age_seconds{job="deliver-webhook"}');
  });

  /** A TCP proxy to the database that can be cut: every connection through it ends, and no new one is taken. */
  async function tcpProxy(target: URL): Promise<{ port: number; close(): Promise<void> }> {
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = connect(Number(target.port || 27017), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
      port: (server.address() as AddressInfo).port,
      async close() {
        const closed = new Promise((resolve) => server.close(resolve));
        for (const socket of sockets) socket.destroy();
        await closed;
      },
    };
  }

  test('when S3 requests or the database connection fail, then they are counted; a missing object is not an error', async () => {
    const before = await scrape();
    const s3Before = value(before, 'solidarity_object_storage_errors_total')!;
    const dbBefore = value(before, 'solidarity_database_errors_total')!;
    await expect(app.services.storage.read('nothing/here')).rejects.toThrow();
    const count = (name: (typeof OPS_COUNTERS)[keyof typeof OPS_COUNTERS]) => () => app.services.counters.inc(name);
    const wrongKey = createObjectStorage({ ...app.config.s3, secretAccessKey: 'not-the-secret-key' }, app.config.upload, count(OPS_COUNTERS.objectStorageErrors));
    await expect(wrongKey.checkBucket()).rejects.toThrow();
    wrongKey.client.destroy();
    // A connection lost while open (here: the database behind a proxy that goes away) is a database error; a close is not.
    const proxy = await tcpProxy(new URL(app.config.mongo.url));
    const url = new URL(app.config.mongo.url);
    url.host = `127.0.0.1:${proxy.port}`;
    const db = await connectDatabase(url.toString(), undefined, count(OPS_COUNTERS.databaseErrors));
    await db.ping();
    await proxy.close();
    await waitUntil(async () => value(await scrape(), 'solidarity_database_errors_total') === dbBefore + 1, { timeoutMs: 30_000, what: 'the lost connection counted' });
    await db.close();
    const after = await scrape();
    expect(value(after, 'solidarity_object_storage_errors_total')).toBe(s3Before + 1);
    expect(value(after, 'solidarity_database_errors_total')).toBe(dbBefore + 1);
  });

  test('when a job run throws, then it is counted by job name, and its last attempt as a job failed for good', async () => {
    const run = countFailures(app.services.counters, async () => {
      throw new Error('render failed');
    });
    await expect(run({ name: 'release-submission', attempt: 1, maxAttempts: 2 })).rejects.toThrow('render failed');
    await expect(run({ name: 'release-submission', attempt: 2, maxAttempts: 2 })).rejects.toThrow('render failed');
    const text = await scrape();
    expect(value(text, 'solidarity_job_attempts_failed_total{job="release-submission"}')).toBe(2);
    expect(value(text, 'solidarity_jobs_failed_total{job="release-submission"}')).toBe(1);
  });

  test("when a worker reports its job folder, then its free space and used fraction are read; a worker gone quiet is left out", async () => {
    await reportJobFolder(app.services.counters, tmpdir(), clock.now());
    await app.services.counters.reportJobFolder({ worker: 'gone', freeBytes: 1, sizeBytes: 2, at: new Date(clock.now().getTime() - JOB_FOLDER_REPORT_MAX_AGE_MS - 1000) });
    const text = await scrape();
    const stats = await statfs(tmpdir());
    const free = value(text, `solidarity_job_folder_free_bytes{worker="${hostname()}"}`)!;
    // Other tests write to the same disk meanwhile: within 1 GiB.
    expect(Math.abs(free - stats.bavail * stats.bsize)).toBeLessThan(2 ** 30);
    const used = value(text, `solidarity_job_folder_used_ratio{worker="${hostname()}"}`)!;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(1);
    expect(text).not.toContain('worker="gone"');
  });

  test('when the alerts or the dashboard name a metric, then the app has it (a renamed metric fails here)', async () => {
    const text = await scrape();
    const registered = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const rules = (parse(readFileSync(join(ROOT, 'infra/prometheus/alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ expr: string }> }> }).groups.flatMap((g) => g.rules);
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'infra/grafana/solidarity-clips.json'), 'utf8')) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
    const exprs = [...rules.map((r) => r.expr), ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))];
    const used = new Set(exprs.flatMap((expr) => expr.match(/\bsolidarity_[a-z0-9_]+/g) ?? []));
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((name) => !registered.has(name))).toEqual([]);
  });
});

import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { Types } from 'mongoose';
import { loadConfig } from '../../shared/config';
import { connectDatabase, type Database } from '../../shared/db';
import { createJobQueue, type JobQueue } from '../../shared/queue/queue';
import { createObjectStorage } from '../../shared/storage/object-storage';
import type { Submission } from '../../shared/submissions/submission.model';
import { createCampaign, type NewCampaign } from '../../server/services/campaign.service';
import demoCampaign from '../../infra/local/demo-campaign.json';
import { startBalancer } from './balancer';
import { cpuSecondsOf, formatRatio, MiB, startBenchServices, startProcess, stopProcess } from './bench-env';
import { clientAddresses, multipartUpload, percentile, statusReaders, tusUpload, type Uploaded } from './scale-clients';

const run = promisify(execFile);

/**
 * npm run bench:scale (issue 19): the deployment as a cluster runs it, on this machine — 3 server processes behind a
 * local HAProxy (test/bench/balancer.ts: round robin per request, health checks on /readyz), 3 worker processes, one
 * database, one Redis, one S3. In one run:
 *  1. Redis memory: the project's queue (shared/queue/queue.ts, its real job options) takes 10 000 jobs, then 100 000
 *     (a no-op handler in this process, a prefix of its own); `used_memory` after 100 000 ÷ after 10 000: target ≤ 1.2.
 *  2. Idle: 2 rounds of 12 uploads at once (6 multipart, 6 tus in PATCHes of 2 MiB), no worker running: the upload
 *     throughput; then contributors' pages read statuses, 200 a second from 200 addresses, for 15 s: the p99.
 *  3. During transcodes: the 3 workers start on the clips so far; once at least 2 jobs run, the same 2 rounds of
 *     uploads: throughput during transcodes ÷ idle, target ≥ 0.8.
 *  4. The storm: 60 uploads at once (30 multipart, 30 tus), 200 status reads a second, while one worker is SIGKILLed
 *     (and started again, as its Deployment would), one server gets SIGTERM and is started again on its port (a rolling
 *     restart), and Redis is emptied (FLUSHALL) once. Status p99 during the storm ÷ idle: target ≤ 3. The time from
 *     Redis emptied to every clip then waiting for processing having a job again (the workers' mark: worker/reconciler.ts).
 *  5. Then every clip must reach review: clips lost 0 (an upload acknowledged that never reaches review, or one the
 *     client had to give up), duplicates 0 (two clips from one upload: each upload's bytes are its own, so two
 *     submissions with one SHA-256), every clip in review; and at least one tus upload's PATCHes were answered by
 *     different servers.
 * Each phase also prints where the machine's CPU went (the transcodes, niced, apart; then by kind of process), and the
 * storm what its uploads and reads needed at the costs measured idle against what the machine had: on 2 cores the
 * status reads alone take most of it, and the storm asks for more than there is (README: bench:scale).
 * The clients retry as the campaign page does: a multipart upload refused with 503 (server stopping) is sent again, a
 * tus PATCH refused or cut is followed by a HEAD and carries on from the offset, wherever the balancer sends it.
 * Options: `-- --jobs 2000,20000` (the two Redis figures' job counts), `-- --storm 60`.
 */

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1]! : fallback;
};
const [JOBS_SMALL, JOBS_LARGE] = option('jobs', '10000,100000').split(',').map(Number) as [number, number];
const STORM = Number(option('storm', '60'));
const ROUND = 12;
const ROUNDS = 2;
const CHUNK = 2 * MiB;
const READS_PER_SECOND = 200;
const IDLE_READ_SECONDS = 15;
const SERVERS = 3;
const WORKERS = 3;
const IN_REVIEW_TIMEOUT_MS = 20 * 60_000;
const say = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The machine's CPU time so far (/proc/stat, in clock ticks): niced processes (the transcodes) apart from the rest. */
async function machineCpu(): Promise<{ busy: number; nice: number; total: number }> {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number) as number[];
  const busy = user! + system! + irq! + softirq! + steal!;
  return { busy, nice: nice!, total: busy + nice! + idle! + iowait! };
}

const KINDS: Array<[string, RegExp]> = [
  ['servers', /server\/main\.js/],
  ['workers', /worker\/main\.js/],
  ['ffmpeg', /^(?:setsid|nice|ffmpeg|ffprobe)\b|\/ffmpeg\b|\/ffprobe\b/],
  ['ferretdb', /ferretdb/],
  ['minio', /minio/],
  ['redis', /redis-server/],
  ['haproxy', /haproxy/],
  ['bench (the clients)', /scale\.bench\.js/],
];

/** CPU-seconds used so far by each kind of process (those alive now), by pid. */
async function cpuByKind(): Promise<Map<string, Map<number, number>>> {
  const kinds = new Map<string, Map<number, number>>();
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const kind = KINDS.find(([, pattern]) => pattern.test(cmdline.replace(/\0/g, ' ')))?.[0];
    if (!kind) continue;
    try {
      const seconds = cpuSecondsOf(Number(name));
      if (!kinds.has(kind)) kinds.set(kind, new Map());
      kinds.get(kind)!.set(Number(name), seconds);
    } catch {
      // ended meanwhile
    }
  }
  return kinds;
}

/** What share of the machine's CPU a phase used: the transcodes (niced) and the rest, and by kind of process. */
async function cpuShare<T>(work: () => Promise<T>): Promise<{ result: T; line: string; busyCoreSeconds: number; seconds: number }> {
  const [before, kindsBefore] = [await machineCpu(), await cpuByKind()];
  const started = process.hrtime.bigint();
  const result = await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const [after, kindsAfter] = [await machineCpu(), await cpuByKind()];
  const total = after.total - before.total || 1;
  const pct = (n: number) => `${((100 * n) / total).toFixed(0)} %`;
  const byKind = [...kindsAfter.entries()]
    .map(([kind, pids]) => [kind, [...pids.entries()].reduce((sum, [pid, cpu]) => sum + cpu - (kindsBefore.get(kind)?.get(pid) ?? 0), 0)] as const)
    .filter(([, cpu]) => cpu > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, cpu]) => `${kind} ${((100 * cpu) / (seconds * availableParallelism())).toFixed(0)} %`)
    .join(', ');
  // The CPU the phase's own work used (not the transcodes'), in core-seconds.
  const busyCoreSeconds = ((after.busy - before.busy) / total) * seconds * availableParallelism();
  return { result, seconds, busyCoreSeconds, line: `CPU: transcodes (niced) ${pct(after.nice - before.nice)}, the rest ${pct(after.busy - before.busy)}, idle ${pct(total - (after.busy - before.busy) - (after.nice - before.nice))}; ${byKind}` };
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** 1. The queue's Redis memory after JOBS_SMALL and after JOBS_LARGE jobs, each measured with the queue idle. */
async function redisMemory(redisUrl: string): Promise<{ small: number; large: number; seconds: number }> {
  const started = Date.now();
  const prefix = 'scale-memory';
  const queue = createJobQueue({ redisUrl, prefix });
  const redis = new Redis(redisUrl);
  let done = 0;
  void queue.process('process-submission', 50, async () => {
    done += 1;
  });
  let added = 0;
  const addUpTo = async (total: number) => {
    while (added < total) {
      const batch = Math.min(500, total - added);
      await Promise.all(Array.from({ length: batch }, () => queue.enqueue('process-submission', { submissionId: new Types.ObjectId().toHexString() })));
      added += batch;
    }
    await until(() => done >= total, 30 * 60_000, `${total} jobs done`);
    await until(async () => (await queue.counts()).active === 0, 60_000, 'the queue idle');
  };
  await addUpTo(JOBS_SMALL);
  const small = await usedMemory(redis);
  say(`  ${JOBS_SMALL} jobs: used_memory ${(small / MiB).toFixed(1)} MiB (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  await addUpTo(JOBS_LARGE);
  const large = await usedMemory(redis);
  say(`  ${JOBS_LARGE} jobs: used_memory ${(large / MiB).toFixed(1)} MiB (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  await queue.close();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
  return { small, large, seconds: (Date.now() - started) / 1000 };
}

/** One clip per upload, each with bytes of its own (a stream copy with its own comment), so a duplicate shows. */
async function makeClips(dir: string, count: number): Promise<string[]> {
  const base = join(dir, 'base.mp4');
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=duration=8:size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=330:duration=8',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '4', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', base]);
  const paths: string[] = [];
  for (let n = 0; n < count; n += 1) {
    const path = join(dir, `clip-${n}.mp4`);
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', base, '-c', 'copy', '-metadata', `comment=scale clip ${n}`, path]);
    paths.push(path);
  }
  return paths;
}

async function main(): Promise<void> {
  const bench = await startBenchServices();
  const work = await mkdtemp(join(tmpdir(), 'solidarity-scale-'));
  const children: ChildProcess[] = [];
  let db: Database | undefined;
  let queue: JobQueue | undefined;
  let balancer: Awaited<ReturnType<typeof startBalancer>> | undefined;
  let failed: boolean | undefined;
  try {
    say(`1. Redis memory: ${JOBS_SMALL} then ${JOBS_LARGE} jobs through the project's queue…`);
    const memory = await redisMemory(bench.env.REDIS_URL!);

    const uploadsTotal = 2 * ROUND * ROUNDS + STORM;
    say(`making ${uploadsTotal} clips…`);
    const clips = await makeClips(work, uploadsTotal);
    const clipBytes = (await readFile(clips[0]!)).length;

    const ports = { balancer: await freePort(), servers: [await freePort(), await freePort(), await freePort()] };
    const publicUrl = `http://127.0.0.1:${ports.balancer}`;
    // The servers believe the balancer's X-Forwarded-For (one proxy): each client is told apart by its address.
    const env: NodeJS.ProcessEnv = { ...bench.env, PUBLIC_URL: publicUrl, TRUST_PROXY: '1', LOG_LEVEL: 'warn' };
    const config = loadConfig(env);
    await createObjectStorage(config.s3, config.upload).ensureBucket();
    db = await connectDatabase(config.mongo.url);
    await createCampaign(db, demoCampaign as NewCampaign, new Date());
    queue = createJobQueue({ redisUrl: config.redis.url, prefix: config.redis.queuePrefix });

    const servers: Array<ChildProcess | null> = [null, null, null];
    const startServer = async (i: number) => {
      const port = ports.servers[i]!;
      const child = await startProcess('server/main.js', { ...env, PORT: String(port), HOST: '127.0.0.1' }, async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, [], 120_000);
      servers[i] = child;
      children.push(child);
    };
    for (let i = 0; i < SERVERS; i += 1) await startServer(i);
    balancer = await startBalancer(work, { port: ports.balancer, servers: ports.servers.map((port, i) => ({ name: `server${i + 1}`, port })) });
    say(`${SERVERS} servers behind HAProxy at ${publicUrl}; clips of ${(clipBytes / MiB).toFixed(1)} MiB`);

    const uploaded: Uploaded[] = [];
    const gaveUp: string[] = [];
    let next = 0;
    /** `count` uploads at once, half multipart and half tus, each from an address of its own. */
    const uploadAtOnce = async (count: number, block: number): Promise<{ seconds: number; bytes: number }> => {
      const addresses = clientAddresses(block, count);
      const first = next;
      next += count;
      const started = process.hrtime.bigint();
      await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const n = first + i;
          const clip = await readFile(clips[n]!);
          try {
            uploaded.push(i % 2 === 0 ? await multipartUpload(publicUrl, clip, n, addresses[i]!) : await tusUpload(publicUrl, clip, n, addresses[i]!, CHUNK));
          } catch (error) {
            gaveUp.push(`clip ${n}: ${(error as Error).message}`);
          }
        }),
      );
      return { seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes: count * clipBytes };
    };
    const throughput = async (block: number) => {
      let seconds = 0;
      let bytes = 0;
      for (let round = 0; round < ROUNDS; round += 1) {
        const r = await uploadAtOnce(ROUND, block + round);
        seconds += r.seconds;
        bytes += r.bytes;
      }
      return bytes / seconds;
    };
    const readers = () => statusReaders(publicUrl, () => uploaded, { perSecond: READS_PER_SECOND, clients: clientAddresses(200, READS_PER_SECOND) });

    // 2. Idle.
    say(`2. idle: ${ROUNDS} rounds of ${ROUND} uploads at once, then ${READS_PER_SECOND} status reads a second for ${IDLE_READ_SECONDS} s…`);
    const idleUploads = await cpuShare(() => throughput(10));
    const idleThroughput = idleUploads.result;
    const idleReading = await cpuShare(async () => {
      const idleReaders = readers();
      await sleep(IDLE_READ_SECONDS * 1000);
      return idleReaders.stop();
    });
    const idleReads = idleReading.result;
    say(`  upload ${(idleThroughput / MiB).toFixed(1)} MiB/s (${idleUploads.line})`);
    say(`  status p50 ${percentile(idleReads.samples, 50).toFixed(1)} ms, p99 ${percentile(idleReads.samples, 99).toFixed(1)} ms (${idleReads.samples.length} reads, ${idleReads.failures.length} failed; ${idleReading.line})`);

    // 3. During transcodes.
    const workers: Array<ChildProcess | null> = [null, null, null];
    const startWorker = async (i: number) => {
      const dir = join(work, `worker-${i + 1}`);
      await mkdir(dir, { recursive: true });
      const child = await startProcess('worker/main.js', { ...env, WORK_DIR: dir }, async () => true);
      workers[i] = child;
      children.push(child);
    };
    for (let i = 0; i < WORKERS; i += 1) await startWorker(i);
    await until(async () => (await queue!.counts()).active >= 2, 120_000, 'two jobs running');
    say(`3. during transcodes (${(await queue.counts()).active} jobs running): the same uploads…`);
    const busyUploads = await cpuShare(() => throughput(20));
    const busyThroughput = busyUploads.result;
    const activeAfter = (await queue.counts()).active;
    say(`  upload ${(busyThroughput / MiB).toFixed(1)} MiB/s (${activeAfter} jobs still running at the end; ${busyUploads.line})`);

    // 4. The storm.
    say(`4. the storm: ${STORM} uploads at once, ${READS_PER_SECOND} status reads a second; a worker SIGKILLed, a server restarted, Redis emptied…`);
    const stormReaders = readers();
    const stormStarted = Date.now();
    const events: string[] = [];
    const event = (what: string) => events.push(`  +${((Date.now() - stormStarted) / 1000).toFixed(1)} s ${what}`);
    let requeueSeconds = NaN;
    let waitingAtFlush = 0;
    const chaos = (async () => {
      await sleep(1_000);
      const killed = workers[0]!;
      killed.kill('SIGKILL');
      event(`worker 1 SIGKILLed (pid ${killed.pid})`);
      await sleep(500);
      const stopping = servers[1]!;
      event('server 2 SIGTERM');
      const restarted = stopProcess(stopping).then(async () => {
        event('server 2 exited; starting it again');
        await startServer(1);
        event('server 2 ready again');
      });
      await sleep(1_500);
      const redis = new Redis(config.redis.url);
      await redis.flushall();
      redis.disconnect();
      const flushed = Date.now();
      event('Redis emptied (FLUSHALL)');
      const requeue = (async () => {
        // The clips waiting for processing when Redis lost their jobs: each must have a job again (or have moved on).
        const waiting = (await db!.submissions.find({ status: 'received' }).select({ _id: 1 }).lean<Array<Pick<Submission, '_id'>>>()).map((s) => s._id.toHexString());
        waitingAtFlush = waiting.length;
        const live = new Set(['waiting', 'active', 'delayed']);
        let left = waiting;
        while (left.length > 0) {
          const still: string[] = [];
          for (const id of left) {
            const clip = await db!.submissions.findById(id).select({ status: 1 }).lean<Pick<Submission, 'status'>>();
            if (clip?.status === 'received' && !live.has((await queue!.jobState(id)) ?? '')) still.push(id);
          }
          left = still;
          if (left.length > 0) {
            if (Date.now() - flushed > 10 * 60_000) throw new Error(`${left.length} waiting clips still have no job 10 minutes after Redis was emptied`);
            await sleep(250);
          }
        }
        requeueSeconds = (Date.now() - flushed) / 1000;
        event(`every clip waiting at the flush (${waiting.length}) has a job again`);
      })();
      await sleep(3_000);
      await startWorker(0);
      event('worker 1 started again');
      await Promise.all([restarted, requeue]);
    })();
    // Awaited below, after the uploads; until then a failure must not end the process before the clean-up.
    chaos.catch(() => undefined);
    const storm = await cpuShare(async () => {
      await uploadAtOnce(STORM, 30);
      event(`the ${STORM} uploads are done`);
      await chaos;
      return stormReaders.stop();
    });
    const stormReads = storm.result;
    for (const line of events) say(line);
    say(`  status p50 ${percentile(stormReads.samples, 50).toFixed(1)} ms, p99 ${percentile(stormReads.samples, 99).toFixed(1)} ms (${stormReads.samples.length} reads, ${stormReads.failures.length} failed${stormReads.failures.length ? `: ${[...new Set(stormReads.failures)].join(', ')}` : ''}; ${storm.line})`);
    // What the storm asked of the machine, at the costs measured idle: whether p99 can hold is a matter of capacity.
    const cpuPerMiB = idleUploads.busyCoreSeconds / ((ROUNDS * ROUND * clipBytes) / MiB);
    const cpuPerRead = idleReading.busyCoreSeconds / (idleReads.samples.length + idleReads.failures.length);
    const stormNeeds = (STORM * clipBytes * cpuPerMiB) / MiB + (stormReads.samples.length + stormReads.failures.length) * cpuPerRead;
    const stormHad = storm.seconds * availableParallelism();
    say(`  the storm's uploads and reads needed ${stormNeeds.toFixed(1)} core-seconds at the idle costs (${(cpuPerMiB * 1000).toFixed(0)} ms a MiB uploaded, ${(cpuPerRead * 1000).toFixed(1)} ms a status read, clients and services included), without the restart and the transcodes; the machine had ${stormHad.toFixed(1)} in ${storm.seconds.toFixed(1)} s (${availableParallelism()} cores): ${(stormNeeds / stormHad).toFixed(2)} of it`);

    // 5. Every clip in review.
    say(`5. waiting for the ${uploaded.length} clips to reach review…`);
    const ids = uploaded.map((u) => new Types.ObjectId(u.id));
    const waitStarted = Date.now();
    let lastSaid = 0;
    await until(async () => {
      const settled = await db!.submissions.countDocuments({ _id: { $in: ids }, status: { $nin: ['received', 'processing'] } });
      if (Date.now() - lastSaid > 30_000) {
        lastSaid = Date.now();
        say(`  ${settled}/${ids.length} settled (${((Date.now() - waitStarted) / 1000).toFixed(0)} s)`);
      }
      return settled === ids.length;
    }, IN_REVIEW_TIMEOUT_MS, 'every clip to leave processing');

    const all = await db.submissions.find({}).select({ _id: 1, status: 1, 'original.sha256': 1 }).lean<Array<Pick<Submission, '_id' | 'status' | 'original'>>>();
    const byId = new Map(all.map((s) => [s._id.toHexString(), s]));
    const bySha = new Map<string, number>();
    for (const s of all) bySha.set(s.original.sha256, (bySha.get(s.original.sha256) ?? 0) + 1);
    const notInReview = uploaded.filter((u) => byId.get(u.id)?.status !== 'in_review');
    const missing = uploaded.filter((u) => !byId.has(u.id));
    const lost = missing.length + gaveUp.length;
    const duplicates = [...bySha.values()].reduce((sum, count) => sum + count - 1, 0);
    const spread = uploaded.filter((u) => u.kind === 'tus' && u.servers.size >= 2).length;
    const tusCount = uploaded.filter((u) => u.kind === 'tus').length;
    const resent = uploaded.reduce((sum, u) => sum + u.retries, 0);

    const memoryRatio = memory.large / memory.small;
    const p99Ratio = percentile(stormReads.samples, 99) / percentile(idleReads.samples, 99);
    const throughputRatio = busyThroughput / idleThroughput;
    say('');
    say(`uploads acknowledged ${uploaded.length} of ${uploadsTotal} (${resent} requests sent again after a refusal or a cut); ${all.length} clips in the database`);
    say(`tus uploads whose PATCHes were answered by 2 or more servers: ${spread} of ${tusCount}`);
    say(`${'clips lost'.padEnd(58)} ${String(lost).padStart(8)}   (target 0)`);
    for (const line of gaveUp) say(`  gave up: ${line}`);
    for (const u of missing) say(`  acknowledged but not in the database: ${u.id}`);
    say(`${'duplicates'.padEnd(58)} ${String(duplicates).padStart(8)}   (target 0)`);
    say(`${'clips not in review'.padEnd(58)} ${String(notInReview.length).padStart(8)}   (target 0)`);
    for (const u of notInReview.slice(0, 10)) say(`  ${u.id}: ${byId.get(u.id)?.status ?? 'missing'}`);
    say(formatRatio('status p99 during the storm ÷ idle', p99Ratio, '≤ 3'));
    say(formatRatio('upload throughput during transcodes ÷ idle', throughputRatio, '≥ 0.8'));
    say(formatRatio(`Redis used_memory after ${JOBS_LARGE} jobs ÷ after ${JOBS_SMALL}`, memoryRatio, '≤ 1.2'));
    say(`${'Redis emptied → every waiting clip queued again (s)'.padEnd(58)} ${requeueSeconds.toFixed(1).padStart(8)}   (${waitingAtFlush} clips were waiting)`);
    failed = !(lost === 0 && duplicates === 0 && notInReview.length === 0 && p99Ratio <= 3 && throughputRatio >= 0.8 && memoryRatio <= 1.2 && spread > 0 && Number.isFinite(requeueSeconds));
  } finally {
    await balancer?.stop().catch(() => undefined);
    await Promise.all(children.map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    }));
    await queue?.close().catch(() => undefined);
    await db?.close().catch(() => undefined);
    await bench.stop();
    await rm(work, { recursive: true, force: true });
  }
  process.exitCode = failed === false ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:scale: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

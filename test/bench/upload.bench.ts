import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { Upload } from '@aws-sdk/lib-storage';
import { loadConfig } from '../../shared/config';
import { connectDatabase } from '../../shared/db';
import { createObjectStorage, type ObjectStorage } from '../../shared/storage/object-storage';
import { createCampaign, type NewCampaign } from '../../server/services/campaign.service';
import demoCampaign from '../../infra/local/demo-campaign.json';
import {
  formatRatio,
  GiB,
  MiB,
  rssOf,
  peakRssOf,
  resetPeakRss,
  startBenchServices,
  startProcess,
  stopProcess,
  timed,
  withCpuSeconds,
} from './bench-env';

/**
 * npm run bench:upload — the upload path against a direct S3 upload of the same bytes, in one run:
 *  - throughput: API upload (multipart parsing, sniffing, hashing, streaming to S3) ÷ a direct
 *    @aws-sdk/lib-storage Upload with the same part size and parallelism (target ≥ 0.9);
 *  - memory: the server's RSS growth while taking 2 GiB ÷ while taking 200 MiB (target ≤ 1.1: memory
 *    must not grow with the size of the clip): each size in a fresh server process (warmed up with one
 *    small upload), its peak RSS (VmHWM, reset after the warm-up) less its RSS after the warm-up, so memory kept from
 *    the small runs neither flatters nor burdens the large one;
 *  - the same two with 8 uploads at once;
 *  - CPU: the server's CPU-seconds per GiB taken through the API ÷ the floor, a process that reads
 *    the same bytes from a loopback socket and hashes them once with SHA-256 (target ≤ 2).
 * The server and the floor run as their own processes so their RSS and CPU time are their own.
 * `npm run bench:upload -- --quick`: one 1 GiB upload each way (CPU and throughput), no memory matrix.
 */

const QUICK = process.argv.includes('--quick');

const BLOCK = randomBytes(MiB);
// A valid MP4 head (ftyp box) so the container check passes; the rest is random filler.
const HEAD = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypisom\0\0\x02\0isomiso2', 'latin1')]);

function clipStream(bytes: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) {
        this.push(null);
        return;
      }
      let chunk = sent === 0 ? Buffer.concat([HEAD, BLOCK.subarray(HEAD.length)]) : BLOCK;
      if (sent + chunk.length > bytes) chunk = chunk.subarray(0, bytes - sent);
      sent += chunk.length;
      this.push(chunk);
    },
  });
}

const FIELDS = {
  campaign: 'demo',
  organisation: 'Benchmark union',
  country: 'BY',
  language: 'en',
  title: 'Benchmark clip',
  consent: JSON.stringify({ version: 1, language: 'en', statements: ['record', 'publish', 'risk'] }),
};

function apiUpload(baseUrl: string, bytes: number): Promise<string> {
  const boundary = `bench${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    Object.entries(FIELDS)
      .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
      .join('') + `--${boundary}\r\nContent-Disposition: form-data; name="video"; filename="clip.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}/api/submissions`, {
      method: 'POST',
      headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': head.length + bytes + tail.length },
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const body = JSON.parse(Buffer.concat(parts).toString()) as { id?: string };
        if (res.statusCode !== 202 || !body.id) reject(new Error(`upload failed: ${res.statusCode}: ${JSON.stringify(body)}`));
        else resolve(body.id);
      });
    });
    req.on('error', reject);
    req.write(head);
    const clip = clipStream(bytes);
    clip.pipe(req, { end: false });
    clip.on('end', () => req.end(tail));
  });
}

async function directUpload(storage: ObjectStorage, key: string, bytes: number, partBytes: number, partsInFlight: number) {
  await new Upload({
    client: storage.client,
    // With a CRC32 per part, as the server sends them, so both sign UNSIGNED-PAYLOAD (see object-storage.ts).
    params: { Bucket: storage.bucket, Key: key, Body: clipStream(bytes), ContentType: 'video/mp4', ChecksumAlgorithm: 'CRC32' },
    partSize: partBytes,
    queueSize: partsInFlight,
  }).done();
}

/** Sends a clip's bytes to the hashing floor process over a loopback socket; resolves once it has hashed them all. */
function floorUpload(port: number, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => (answer += text));
    socket.on('end', () => (/^[0-9a-f]{64}$/.test(answer) ? resolve() : reject(new Error(`floor answered ${JSON.stringify(answer)}`))));
    socket.on('error', reject);
    clipStream(bytes).pipe(socket);
  });
}

/** Server CPU-seconds per GiB during one API upload ÷ the floor's, and throughput API ÷ direct, for one clip size. */
async function cpuAndThroughput(
  bytes: number,
  server: { pid: number; baseUrl: string },
  direct: () => Promise<void>,
  clean: () => Promise<void>,
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  const floorPort = 30000 + Math.floor(Math.random() * 20000);
  const floor = await startProcess(
    'test/bench/hash-floor.js',
    env,
    () =>
      new Promise((resolve) => {
        const probe = connect(floorPort, '127.0.0.1', () => probe.end(() => resolve(true)));
        probe.on('error', () => resolve(false));
      }),
    [String(floorPort)],
  );
  try {
    await floorUpload(floorPort, 8 * MiB); // warm-up
    const gib = bytes / GiB;
    // Floor, API, floor: the machine's load may drift during the run, the floor is their mean.
    const floorBefore = await withCpuSeconds(floor.pid!, () => floorUpload(floorPort, bytes));
    const apiRun = await withCpuSeconds(server.pid, () => timed(() => apiUpload(server.baseUrl, bytes)));
    const floorAfter = await withCpuSeconds(floor.pid!, () => floorUpload(floorPort, bytes));
    await clean();
    const directSeconds = await timed(direct);
    await clean();
    const floorPerGiB = (floorBefore.cpuSeconds + floorAfter.cpuSeconds) / 2 / gib;
    const serverPerGiB = apiRun.cpuSeconds / gib;
    const label = `1×${bytes / MiB} MiB`;
    const mbps = (seconds: number) => (bytes / MiB / seconds).toFixed(0);
    process.stdout.write(
      `${label.padEnd(16)} server ${serverPerGiB.toFixed(2)} CPU-s/GiB   floor (socket + SHA-256) ${floorPerGiB.toFixed(2)} CPU-s/GiB (${(floorBefore.cpuSeconds / gib).toFixed(2)} before, ${(floorAfter.cpuSeconds / gib).toFixed(2)} after)   ` +
        `API ${mbps(apiRun.result)} MiB/s   direct ${mbps(directSeconds)} MiB/s\n`,
    );
    return [
      formatRatio(`server CPU per GiB ÷ floor (socket + SHA-256), ${label}`, serverPerGiB / floorPerGiB, '≤ 2'),
      formatRatio(`throughput API ÷ direct, ${label} (one run each)`, directSeconds / apiRun.result, '≥ 0.9'),
    ];
  } finally {
    await stopProcess(floor);
  }
}

async function main(): Promise<void> {
  const bench = await startBenchServices();
  const config = loadConfig(bench.env);
  const storage = createObjectStorage(config.s3, config.upload);
  await storage.ensureBucket();
  const db = await connectDatabase(config.mongo.url);
  await createCampaign(db, demoCampaign as NewCampaign, new Date());
  const clean = async () => {
    for (const key of await storage.list('')) await storage.remove(key);
    await db.submissions.deleteMany({});
  };
  /** A server process of its own, warmed up: connections, JIT, and the SDK's lazily loaded code for multipart uploads. */
  const freshServer = async () => {
    const port = 30000 + Math.floor(Math.random() * 20000);
    const baseUrl = `http://127.0.0.1:${port}`;
    // All uploads come from one address: the per-client limits (20 uploads in 10 minutes by default) would
    // refuse the full run's 22 with 429.
    const serverEnv = { ...bench.env, PORT: String(port), RATE_LIMIT_REQUESTS: '1000000', RATE_LIMIT_UPLOADS: '1000000' };
    const process_ = await startProcess('server/main.js', serverEnv, async () => (await fetch(`${baseUrl}/healthz`)).ok);
    // (More than one part: one part goes as a single PUT.)
    await apiUpload(baseUrl, 2 * config.upload.partBytes + MiB);
    await clean();
    return { process: process_, pid: process_.pid!, baseUrl };
  };

  const lines: string[] = [];
  const servers: Array<Awaited<ReturnType<typeof freshServer>>> = [];
  try {
    // The warm-up keeps the SDK's first multipart upload out of the CPU figure.
    const cpuServer = await freshServer();
    servers.push(cpuServer);
    const direct = () => directUpload(storage, 'direct/cpu', GiB, config.upload.partBytes, config.upload.partsInFlight);
    lines.push(...(await cpuAndThroughput(GiB, cpuServer, direct, clean, bench.env)));
    await stopProcess(cpuServer.process);
    for (const parallel of QUICK ? [] : [1, 8]) {
      const results: Record<string, { api: number; direct: number; peakGrowth: number }> = {};
      for (const size of [200 * MiB, 2048 * MiB]) {
        const { process: server, pid, baseUrl } = await freshServer();
        servers.push({ process: server, pid, baseUrl });
        const baseline = rssOf(pid);
        resetPeakRss(pid);
        let apiSeconds = 0;
        let directSeconds = 0;
        let peakGrowth = 1;
        // Single uploads run A B B A (the disk's write-back from one run slows the next); 8 at once run A B.
        const order = parallel === 1 ? ['api', 'direct', 'direct', 'api'] : ['api', 'direct'];
        for (const which of order) {
          if (which === 'api') {
            apiSeconds += await timed(() => Promise.all(Array.from({ length: parallel }, () => apiUpload(baseUrl, size))));
            peakGrowth = Math.max(peakGrowth, peakRssOf(pid) - baseline);
          } else {
            directSeconds += await timed(() =>
              Promise.all(Array.from({ length: parallel }, (_, i) => directUpload(storage, `direct/${i}`, size, config.upload.partBytes, config.upload.partsInFlight))),
            );
          }
          await clean();
        }
        await stopProcess(server);
        const runs = order.length / 2;
        const label = `${parallel}×${size / MiB} MiB`;
        results[label] = { api: apiSeconds / runs, direct: directSeconds / runs, peakGrowth };
        const mbps = (seconds: number) => ((parallel * size * runs) / MiB / seconds).toFixed(0);
        process.stdout.write(
          `${label.padEnd(16)} API ${mbps(apiSeconds)} MiB/s   direct ${mbps(directSeconds)} MiB/s   fresh server: RSS ${(baseline / MiB).toFixed(1)} MiB after warm-up, peak +${(peakGrowth / MiB).toFixed(1)} MiB  (${runs} run(s) each)\n`,
        );
      }
      const small = results[`${parallel}×200 MiB`]!;
      const large = results[`${parallel}×2048 MiB`]!;
      lines.push(formatRatio(`throughput API ÷ direct, ${parallel} upload(s), 2 GiB`, large.direct / large.api, '≥ 0.9'));
      lines.push(formatRatio(`throughput API ÷ direct, ${parallel} upload(s), 200 MiB`, small.direct / small.api, '≥ 0.9'));
      lines.push(formatRatio(`server RSS growth 2 GiB ÷ 200 MiB, ${parallel} upload(s)`, large.peakGrowth / small.peakGrowth, '≤ 1.1'));
    }
    process.stdout.write(`\n${lines.join('\n')}\n`);
  } finally {
    for (const server of servers) await stopProcess(server.process);
    await db.close();
    await bench.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:upload: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

import { readSigningMaterial } from '../../shared/provenance/signing-files';
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { buffer } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { Types } from 'mongoose';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { connectCoreServices } from '../../shared/startup-checks';
import { createObjectStorage, sha256Hex } from '../../shared/storage/object-storage';
import { originalKey, originalSubtitlesKey, releaseKey } from '../../shared/storage/keys';
import { approve } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import { createCampaign, type NewCampaign } from '../../server/services/campaign.service';
import { createSubmission } from '../../server/services/submission.service';
import { runLimits } from '../../worker/deps';
import { processSubmission } from '../../worker/handlers/process-submission.handler';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { blurredFillFilters, buildReleaseArgs, CAPTION_SAFE_AREAS, RELEASE_SHAPES, shapeSize, type ReleasePlan } from '../../worker/steps/release.step';
import { commandArgs } from '../../worker/ffmpeg/ffmpeg';
import { parseSubtitles, toAss } from '../../shared/subtitles/subtitles';
import demoCampaign from '../../infra/local/demo-campaign.json';
import { formatRatio, timed, peakRssOf, resetPeakRss, rssOf, startBenchServices, startProcess, stopProcess, MiB } from './bench-env';
import { benchLogin, benchStaff } from './bench-staff';

const run = promisify(execFile);

/**
 * npm run bench:release, in one run:
 *  1. CPU of one decode of the master making every release render (3 shapes × plain and Belarusian
 *     captions, 3 posters) ÷ one ffmpeg process per render (ffmpeg -benchmark; 10 s of a 1080p master);
 *  2. time to the reviewable preview (the worker's processing) ÷ time to the full release set
 *     (processing + release renders) for a 60 s 1080p clip with captions;
 *  3. the ZIP stream's server memory for 10 clips ÷ for 1: the peak RSS (VmHWM) of the server process
 *     (dist/server/main.js, a fresh one for each download, three of each size, alternating), which a
 *     social-team member logs in to and downloads the gallery's ZIP from over HTTP; the median of each
 *     size's peaks is compared. The peak is reset after the login (its scrypt takes 128 MiB for a moment,
 *     more than any ZIP here), so it is the download's. Its growth over the level before is printed too.
 *
 * Options: `-- --zip-only` (part 3 alone: one 8 s 720p clip processed and released, then the ZIPs);
 * `-- --buffered` (with --zip-only, or alone): the server holds each ZIP whole in memory before sending it
 * (test/bench/buffered-zip-server.ts) — the ratio must then fail its target, or it proves nothing.
 */

const ZIP_ONLY = process.argv.includes('--zip-only');
const BUFFERED = process.argv.includes('--buffered');

const SECONDS = 60;
const SRT = Buffer.from(Array.from({ length: 20 }, (_, i) => `${i + 1}\n00:00:${String(i * 3).padStart(2, '0')},000 --> 00:00:${String(i * 3 + 2).padStart(2, '0')},500\nПрафсаюзы — не экстрэмізм (${i + 1})\n`).join('\n'));
const H264 = '-c:v libx264 -preset veryfast -crf 20 -profile:v high -pix_fmt yuv420p -g 60 -c:a copy'.split(' ');
const SELECT = 'select=isnan(prev_selected_t)*gte(t\\,1)*eq(pict_type\\,I)';

async function makeClip(dir: string, seconds: number, size: string): Promise<string> {
  const path = join(dir, `clip-${seconds}-${size}.mp4`);
  await run('nice', ['-n', '10', 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=duration=${seconds}:size=${size}:rate=30`, '-f', 'lavfi', '-i', `sine=frequency=300:sample_rate=48000:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', path]);
  return path;
}

async function cpuSeconds(args: string[]): Promise<number> {
  const withBenchmark = ['-benchmark', '-nostats', ...args.filter((a) => a !== '-stats')];
  const level = withBenchmark.indexOf('-loglevel');
  if (level >= 0) withBenchmark[level + 1] = 'info';
  const { stdout, stderr } = await run('nice', ['-n', '10', 'ffmpeg', ...withBenchmark], { maxBuffer: 1 << 24 });
  const match = /utime=([\d.]+)s stime=([\d.]+)s/.exec(stdout + stderr);
  if (!match) throw new Error('no -benchmark line');
  return Number(match[1]) + Number(match[2]);
}

/** The same renders, one ffmpeg process (and one decode of the master) each. */
function separateRunsArgs(plan: ReleasePlan): string[][] {
  const runs: string[][] = [];
  const base = ['-hide_banner', '-loglevel', 'error', '-i', plan.masterPath, '-y'];
  for (const shape of RELEASE_SHAPES) {
    const frame = shape === 'source' ? ['[0:v:0]setsar=1[f]'] : [`[0:v:0]null[in]`, ...blurredFillFilters('in', 'f', shapeSize(shape, plan.master))];
    runs.push([...base, '-filter_complex', frame.join(';'), '-map', '[f]', '-map', '0:a:0', ...H264, join(plan.outDir, `sep-${shape}.mp4`)]);
    for (const caption of plan.captions) {
      runs.push([...base, '-filter_complex', [...frame, `[f]ass=filename=${caption.assPaths[shape]}[c]`].join(';'), '-map', '[c]', '-map', '0:a:0', ...H264, join(plan.outDir, `sep-${shape}-${caption.language}.mp4`)]);
    }
    runs.push([...base, '-filter_complex', [...frame, `[f]${SELECT}[p]`].join(';'), '-map', '[p]', '-frames:v', '1', '-update', '1', join(plan.outDir, `sep-poster-${shape}.jpg`)]);
  }
  return runs;
}

async function main(): Promise<void> {
  const bench = await startBenchServices();
  const dir = await mkdtemp(join(tmpdir(), 'solidarity-release-bench-'));
  const config = loadConfig({ ...bench.env, NODE_ENV: 'development', WORK_DIR: dir, LOG_LEVEL: 'warn' });
  await createObjectStorage(config.s3, config.upload).ensureBucket();
  const services = await connectCoreServices(config);
  const logger = createLogger({ level: 'warn', name: 'bench' });
  const deps = { config, logger, ...services, limits: runLimits(config), shutdown: new AbortController().signal, signing: readSigningMaterial(config.provenance), now: () => new Date() };
  await createCampaign(services.db, demoCampaign as NewCampaign, new Date());
  const load = async (id: string) => (await services.db.submissions.findById(id).lean<Submission>())!;
  const job = <N extends 'process-submission' | 'release-submission'>(name: N, id: string) => ({ id, name, payload: { submissionId: id }, attempt: 1, maxAttempts: 5, reportProgress: async () => undefined });
  const submit = async (clip: string) => {
    const bytes = await readFile(clip);
    const id = new Types.ObjectId().toHexString();
    await services.storage.upload(originalKey(id), bytes, 'video/mp4');
    await services.storage.upload(originalSubtitlesKey(id), SRT, 'application/octet-stream');
    await createSubmission(deps, {
      id,
      input: { campaign: 'demo', organisation: 'Bench', country: 'BY', language: 'be', title: 'Bench', message: 'Salidarnasć', contactEmail: null, consent: { version: 1, language: 'en', statements: ['record', 'publish', 'risk'] } },
      video: { key: originalKey(id), bytes: bytes.length, sha256: sha256Hex(bytes), contentType: 'video/mp4' },
      subtitles: { key: originalSubtitlesKey(id), bytes: SRT.length, sha256: sha256Hex(SRT), contentType: 'application/octet-stream' },
    });
    return id;
  };
  let toPreview = NaN;
  let toRelease = NaN;
  let oneDecode = NaN;
  let separate = NaN;
  try {
    if (!ZIP_ONLY) {
      // 2. Time: preview ÷ full release set, 60 s 1080p.
      process.stdout.write(`making a ${SECONDS} s 1080p clip…\n`);
      const long = await makeClip(dir, SECONDS, '1920x1080');
      const id = await submit(long);
      toPreview = await timed(() => processSubmission(deps, job('process-submission', id)));
      await approve(services.db.submissions, id, { by: 'bench' });
      toRelease = await timed(() => releaseSubmission(deps, job('release-submission', id)));
      if ((await load(id)).status !== 'released') throw new Error('the clip was not released');
      process.stdout.write(`time to preview ${toPreview.toFixed(1)} s; release renders ${toRelease.toFixed(1)} s more\n`);

      // 1. CPU: one decode ÷ one process per render, on 10 s of the 1080p master.
      const work = await mkdtemp(join(dir, 'cpu-'));
      const master = join(work, 'master-full.mp4');
      await pipeline(await services.storage.download((await load(id)).outputs.master!.key), createWriteStream(master));
      const master10 = join(work, 'master.mp4');
      await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', master, '-t', '10', '-c', 'copy', master10]);
      const cues = parseSubtitles(SRT.toString('utf8'));
      const size = { width: 1920, height: 1080 };
      const assPaths = {} as Record<(typeof RELEASE_SHAPES)[number], string>;
      for (const shape of RELEASE_SHAPES) {
        assPaths[shape] = join(work, `be-${shape}.ass`);
        await writeFile(assPaths[shape], toAss(cues, shapeSize(shape, size), CAPTION_SAFE_AREAS[shape]));
    }
    const plan: ReleasePlan = { masterPath: master10, outDir: work, master: size, fps: 30, posterTime: 1, captions: [{ language: 'be', assPaths }] };
    oneDecode = await cpuSeconds(commandArgs(buildReleaseArgs(plan)));
    separate = 0;
    for (const args of separateRunsArgs(plan)) separate += await cpuSeconds(args);
    process.stdout.write(`CPU: one decode ${oneDecode.toFixed(1)} s, one process per render ${separate.toFixed(1)} s\n`);
    }

    // 3. ZIP memory: 10 clips ÷ 1 (copies of one short clip's release under their own ids).
    const short = await submit(await makeClip(dir, 8, '1280x720'));
    await processSubmission(deps, job('process-submission', short));
    await approve(services.db.submissions, short, { by: 'bench' });
    await releaseSubmission(deps, job('release-submission', short));
    const template = await load(short);
    const ids = [short];
    for (let i = 1; i < 10; i += 1) {
      const copy = new Types.ObjectId();
      const outputs: Record<string, unknown> = {};
      for (const [name, object] of Object.entries(template.release!.outputs)) {
        const key = releaseKey(copy.toHexString(), object.key.split('/').pop()!);
        await services.storage.upload(key, await buffer(await services.storage.download(object.key)), object.contentType);
        outputs[name] = { ...object, key };
      }
      await services.db.submissions.collection.insertOne({ ...template, _id: copy, release: { ...template.release!, outputs } } as never);
      ids.push(copy.toHexString());
    }
    // Each download in a fresh server process, so nothing one size left in its heap flatters or burdens the other.
    const social = await benchStaff(services.db, config.staff, 'social');
    const zipMemory = async (selection: string[]) => {
      const port = 30000 + Math.floor(Math.random() * 20000);
      const baseUrl = `http://127.0.0.1:${port}`;
      const server = await startProcess(BUFFERED ? 'test/bench/buffered-zip-server.js' : 'server/main.js', { ...bench.env, PORT: String(port) }, async () => (await fetch(`${baseUrl}/healthz`)).ok);
      try {
        const cookie = await benchLogin(baseUrl, social);
        const before = rssOf(server.pid!);
        resetPeakRss(server.pid!);
        const query = selection.map((id) => `clip=${id}`).join('&');
        const response = await fetch(`${baseUrl}/staff/gallery/zip?${query}`, { headers: { cookie } });
        if (response.status !== 200 || !response.body) throw new Error(`ZIP refused: ${response.status} ${await response.text()}`);
        let bytes = 0;
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
        const peak = peakRssOf(server.pid!);
        return { peak, delta: peak - before, bytes };
      } finally {
        await stopProcess(server);
      }
    };
    const one: Array<Awaited<ReturnType<typeof zipMemory>>> = [];
    const ten: Array<Awaited<ReturnType<typeof zipMemory>>> = [];
    for (let round = 0; round < 3; round += 1) {
      one.push(await zipMemory(ids.slice(0, 1)));
      ten.push(await zipMemory(ids));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const mib = (n: number) => (n / MiB).toFixed(1);
    process.stdout.write(
      `ZIP${BUFFERED ? ' (BUFFERED on purpose)' : ''}: 1 clip ${mib(one[0]!.bytes)} MiB, server peak RSS ${one.map((r) => mib(r.peak)).join(', ')} MiB (+${one.map((r) => mib(r.delta)).join(', ')} over the level before); ` +
        `10 clips ${mib(ten[0]!.bytes)} MiB, server peak RSS ${ten.map((r) => mib(r.peak)).join(', ')} MiB (+${ten.map((r) => mib(r.delta)).join(', ')})\n\n`,
    );
    const zipRatio = median(ten.map((r) => r.peak)) / median(one.map((r) => r.peak));

    if (!ZIP_ONLY) {
      process.stdout.write(`${formatRatio('CPU one decode ÷ one ffmpeg process per render', oneDecode / separate, '≤ 0.92')}\n`);
      process.stdout.write(`${formatRatio('time to preview ÷ time to the full release set (60 s 1080p)', toPreview / (toPreview + toRelease), '≤ 0.35')}\n`);
    }
    process.stdout.write(`${formatRatio(`ZIP stream: server peak RSS, 10 clips ÷ 1 clip${BUFFERED ? ' (buffered)' : ''}`, zipRatio, '≤ 1.2')}\n`);
    process.exitCode = zipRatio <= 1.2 ? 0 : 1;
  } finally {
    await services.close();
    await bench.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:release: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

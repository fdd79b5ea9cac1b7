import { readSigningMaterial } from '../../shared/provenance/signing-files';
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { Types } from 'mongoose';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { connectCoreServices } from '../../shared/startup-checks';
import { createObjectStorage } from '../../shared/storage/object-storage';
import { originalKey, originalSubtitlesKey } from '../../shared/storage/keys';
import { sha256Hex } from '../../shared/storage/object-storage';
import { createCampaign, type NewCampaign } from '../../server/services/campaign.service';
import { createSubmission } from '../../server/services/submission.service';
import { runLimits } from '../../worker/deps';
import { processSubmission } from '../../worker/handlers/process-submission.handler';
import { parseSubtitles, toAss, toSrt, toWebVtt } from '../../shared/subtitles/subtitles';
import demoCampaign from '../../infra/local/demo-campaign.json';
import { patchFirstTrackMatrix, turnClockwiseMatrix } from '../helpers/fixtures';
import { formatRatio, timed, startBenchServices } from './bench-env';

const run = promisify(execFile);

/**
 * npm run bench:transcode, in one run on the same clip:
 *  1. the worker, from the moment it takes the job to outputs in S3 and the transition, versus a
 *     hand-written pipeline doing the same work: a raw S3 download, a loudness pass and one hand-written
 *     ffmpeg command making the same outputs (master included) with one linear gain, raw S3 uploads (target ≤ 1.05);
 *  2. CPU of one decode making all outputs versus one ffmpeg process per output (ffmpeg -benchmark).
 * The clip: 30 s of 1080p H.264 + AAC, turned 90° by its display matrix, with Belarusian subtitles.
 */

const SECONDS = 30;
const SRT = Buffer.from(
  Array.from({ length: 10 }, (_, i) => `${i + 1}\n00:00:${String(i * 3).padStart(2, '0')},000 --> 00:00:${String(i * 3 + 2).padStart(2, '0')},500\nПрафсаюзы — не экстрэмізм (${i + 1})\n`).join('\n'),
);

const CUES = parseSubtitles(SRT.toString('utf8'));
const CAPTIONS = { ass: toAss(CUES, { width: 720, height: 1280 }), vtt: toWebVtt(CUES), srt: toSrt(CUES) };

async function makeClip(dir: string): Promise<string> {
  const source = join(dir, 'source.mp4');
  await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=duration=${SECONDS}:size=1920x1080:rate=30`,
    '-f', 'lavfi', '-i', `sine=frequency=300:sample_rate=48000:duration=${SECONDS}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', source,
  ]);
  // Turn it with a display matrix, as a phone held upright writes it.
  return patchFirstTrackMatrix(source, join(dir, 'clip.mp4'), turnClockwiseMatrix(1080));
}

const STEREO_48K = 'aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo';

/** The loudness pass, by hand: ebur128's integrated loudness and true peak of the audio as the preview carries it. */
async function measureByHand(input: string): Promise<{ integrated: number; peak: number }> {
  const { stderr } = await run('nice', ['-n', '10', 'ffmpeg', '-hide_banner', '-nostdin', '-nostats', '-i', input, '-map', '0:1', '-af', `${STEREO_48K},ebur128=peak=true:framelog=verbose`, '-f', 'null', '-']);
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  return { integrated: Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1]), peak: Number(/Peak:\s+(-?[\d.]+) dBFS/.exec(summary)?.[1]) };
}

/** One linear gain towards −14 LUFS (at most +30 dB), and the 4× true-peak limiter when peaks would pass −2 dBTP. */
function linearGainFilter(measured: { integrated: number; peak: number }): string {
  const gain = Math.round(Math.min(-14 - measured.integrated, 30) * 10) / 10;
  const limiter = measured.peak + gain > -2 ? `,aresample=192000,alimiter=limit=0.7943:level=disabled:latency=enabled,${STEREO_48K}` : '';
  return `${STEREO_48K},volume=${gain}dB${limiter}`;
}

/** The same outputs, written out by hand (no project code): what the worker is measured against. */
function handWrittenArgs(input: string, ass: string, out: string, audio: string): string[] {
  const x264 = '-c:v libx264 -preset veryfast -crf 23 -profile:v high -pix_fmt yuv420p -g 60 -color_primaries bt709 -color_trc bt709 -colorspace bt709'.split(' ');
  const master264 = '-c:v libx264 -preset veryfast -crf 18 -profile:v high -pix_fmt yuv420p -g 60 -color_primaries bt709 -color_trc bt709 -colorspace bt709'.split(' ');
  const rest = '-c:a aac -b:a 128k -ar 48000 -ac 2 -map_metadata -1 -map_chapters -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact -movflags +faststart'.split(' ');
  return [
    '-hide_banner', '-loglevel', 'error', '-noautorotate', '-i', input, '-y',
    '-filter_complex',
    '[0:0]transpose=clock,fps=30,split=2[m0][p0];[m0]scale=1080:1920:out_range=tv,setsar=1,format=yuv420p[m];' +
      `[p0]scale=720:1280:out_range=tv,setsar=1,format=yuv420p,split=3[a][b][c];[c]select=isnan(prev_selected_t)*gte(t\\,1)*eq(pict_type\\,I)[poster];[b]ass=filename=${ass}[cap];` +
      `[0:1]${audio},asplit=3[a0][a1][a2]`,
    '-map', '[m]', '-map', '[a0]', ...master264, ...rest, join(out, 'master.mp4'),
    '-map', '[a]', '-map', '[a1]', ...x264, ...rest, join(out, 'preview.mp4'),
    '-map', '[cap]', '-map', '[a2]', ...x264, ...rest, join(out, 'captioned.mp4'),
    '-map', '[poster]', '-frames:v', '1', '-update', '1', '-q:v', '3', join(out, 'poster.jpg'),
  ];
}

/** The same four outputs, one ffmpeg process (and one decode) each. */
function separateRunsArgs(input: string, ass: string, out: string, audio: string): string[][] {
  const x264 = '-c:v libx264 -preset veryfast -crf 23 -profile:v high -pix_fmt yuv420p -g 60'.split(' ');
  const aac = '-c:a aac -b:a 128k -ar 48000 -ac 2'.split(' ');
  const video = 'transpose=clock,fps=30,scale=720:1280:out_range=tv,setsar=1,format=yuv420p';
  const base = ['-hide_banner', '-loglevel', 'error', '-benchmark', '-noautorotate', '-i', input, '-y'];
  const master = 'transpose=clock,fps=30,scale=1080:1920:out_range=tv,setsar=1,format=yuv420p';
  return [
    [...base, '-vf', master, '-af', audio, ...'-c:v libx264 -preset veryfast -crf 18 -profile:v high -pix_fmt yuv420p -g 60'.split(' '), ...aac, join(out, 'p0.mp4')],
    [...base, '-vf', video, '-af', audio, ...x264, ...aac, join(out, 'p1.mp4')],
    [...base, '-vf', `${video},ass=filename=${ass}`, '-af', audio, ...x264, ...aac, join(out, 'p2.mp4')],
    [...base, '-vf', `${video},select=isnan(prev_selected_t)*gte(t\\,1)*eq(pict_type\\,I)`, '-frames:v', '1', '-update', '1', join(out, 'p3.jpg')],
  ];
}

async function cpuSeconds(args: string[]): Promise<number> {
  // -benchmark prints its line at log level info.
  const withBenchmark = ['-benchmark', '-nostats', ...args.filter((a) => a !== '-benchmark')];
  const level = withBenchmark.indexOf('-loglevel');
  if (level >= 0) withBenchmark[level + 1] = 'info';
  const { stdout, stderr } = await run('ffmpeg', withBenchmark, { maxBuffer: 1 << 24 });
  const match = /utime=([\d.]+)s stime=([\d.]+)s/.exec(stdout + stderr);
  if (!match) throw new Error('no -benchmark line');
  return Number(match[1]) + Number(match[2]);
}

async function main(): Promise<void> {
  const bench = await startBenchServices();
  const dir = await mkdtemp(join(tmpdir(), 'solidarity-transcode-bench-'));
  const config = loadConfig({ ...bench.env, WORK_DIR: dir });
  await createObjectStorage(config.s3, config.upload).ensureBucket();
  const services = await connectCoreServices(config);
  const logger = createLogger({ level: 'warn', name: 'bench' });
  const deps = { config, logger, ...services, limits: runLimits(config), shutdown: new AbortController().signal, signing: readSigningMaterial(config.provenance), now: () => new Date() };
  await createCampaign(services.db, demoCampaign as NewCampaign, new Date());
  try {
    process.stdout.write('making a 30 s 1080p clip…\n');
    const clip = await makeClip(dir);
    const clipBytes = await readFile(clip);

    const submit = async () => {
      const id = new Types.ObjectId().toHexString();
      await services.storage.upload(originalKey(id), clipBytes, 'video/mp4');
      await services.storage.upload(originalSubtitlesKey(id), SRT, 'application/octet-stream');
      await createSubmission(deps, {
        id,
        input: { campaign: 'demo', organisation: 'Bench', country: 'BY', language: 'be', title: 'Bench', message: '', contactEmail: null, consent: { version: 1, language: 'en', statements: ['record', 'publish', 'risk'] } },
        video: { key: originalKey(id), bytes: clipBytes.length, sha256: sha256Hex(clipBytes), contentType: 'video/mp4' },
        subtitles: { key: originalSubtitlesKey(id), bytes: SRT.length, sha256: sha256Hex(SRT), contentType: 'application/octet-stream' },
      });
      return id;
    };

    const handWritten = async () => {
      const work = await mkdtemp(join(dir, 'hand-'));
      const input = join(work, 'original');
      await pipeline(await services.storage.download(originalKey(probeId)), createWriteStream(input));
      // The same subtitle files as the worker writes (they are inputs here, not what is measured).
      const ass = join(work, 'captions.ass');
      await writeFile(ass, CAPTIONS.ass);
      await writeFile(join(work, 'captions.vtt'), CAPTIONS.vtt);
      await writeFile(join(work, 'captions.srt'), CAPTIONS.srt);
      const audio = linearGainFilter(await measureByHand(input));
      await run('nice', ['-n', '10', 'ffmpeg', ...handWrittenArgs(input, ass, work, audio)]);
      for (const name of ['master.mp4', 'preview.mp4', 'captioned.mp4', 'poster.jpg', 'captions.vtt', 'captions.srt']) {
        await services.storage.upload(`bench/${name}`, createReadStream(join(work, name)), 'application/octet-stream');
      }
      await rm(work, { recursive: true, force: true });
    };
    const probeId = await submit();

    const jobOf = (id: string) => ({ id, name: 'process-submission' as const, payload: { submissionId: id }, attempt: 1, maxAttempts: 5, reportProgress: async () => undefined });
    // Warm-up of both (disk cache, fluent-ffmpeg's capability lists), then alternate: A B B A.
    await processSubmission(deps, jobOf(await submit()));
    await handWritten();
    const worker: number[] = [];
    const hand: number[] = [];
    for (const order of [['worker', 'hand'], ['hand', 'worker']]) {
      for (const which of order) {
        if (which === 'worker') {
          const id = await submit();
          worker.push(await timed(() => processSubmission(deps, jobOf(id))));
        } else {
          hand.push(await timed(handWritten));
        }
      }
    }
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    process.stdout.write(`worker:       ${worker.map((s) => s.toFixed(2)).join(' s, ')} s\nhand-written: ${hand.map((s) => s.toFixed(2)).join(' s, ')} s\n`);

    const work = await mkdtemp(join(dir, 'cpu-'));
    const input = join(work, 'clip.mp4');
    await writeFile(input, clipBytes);
    const ass = join(work, 'captions.ass');
    await writeFile(ass, CAPTIONS.ass);
    const audio = linearGainFilter(await measureByHand(input));
    const oneDecode = await cpuSeconds(handWrittenArgs(input, ass, work, audio));
    let separate = 0;
    for (const args of separateRunsArgs(input, ass, work, audio)) separate += await cpuSeconds(args);
    process.stdout.write(`CPU: one decode ${oneDecode.toFixed(1)} s, one process per output ${separate.toFixed(1)} s\n\n`);

    process.stdout.write(`${formatRatio('worker time ÷ hand-written ffmpeg + raw S3 transfers', sum(worker) / sum(hand), '≤ 1.05')}\n`);
    process.stdout.write(`${formatRatio('CPU one decode ÷ one process per output', oneDecode / separate, '< 1')}\n`);
  } finally {
    await services.close();
    await bench.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:transcode: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Submission } from '../../shared/submissions/submission.model';
import { FfmpegError, missingCapabilities, runFfmpeg } from '../../worker/ffmpeg/ffmpeg';
import { FIXTURES, ffprobeJson, playlistDisguisedAsMp4 } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { waitUntil } from '../helpers/wait-until';
import { ALLOWED_FORMAT_TAGS, ALLOWED_STREAM_TAGS, downloadOutput, runWorker, submitFile, workerDeps } from '../helpers/worker-env';
import { processSubmission } from '../../worker/handlers/process-submission.handler';
import { expectOnlyRecordedOutputs, fakeJob } from '../helpers/worker-env';
import type { WorkerDeps } from '../../worker/deps';

const run = promisify(execFile);

/** The worker's steps on real ffmpeg, real S3 and the real database; outputs checked with ffprobe. */
describe('the processing worker', () => {
  let app: TestApp;
  let deps: WorkerDeps;
  // A work folder whose path needs quoting in a filter graph: the escaping helper is exercised for real.
  const workDir = join(tmpdir(), `solidarity work:it's,[${process.pid}]`);

  beforeAll(async () => {
    await mkdir(workDir, { recursive: true });
    app = await startTestApp({ WORK_DIR: workDir, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
    await seedDemoCampaign(app.deps);
    deps = workerDeps(app);
    expect(await missingCapabilities(deps.limits)).toEqual([]);
    expect(await missingCapabilities({ ...deps.limits, ffprobePath: '/nonexistent/ffprobe' })).toEqual(['the program /nonexistent/ffprobe']);
  });

  afterAll(async () => {
    await app.close();
  });

  afterEach(async () => {
    // Each job removes its temporary folder, on success and on failure alike.
    expect(await readdir(workDir)).toEqual([]);
  });

  async function preview(submission: Submission, name = 'preview') {
    const path = await downloadOutput(deps, submission, name);
    return { path, probe: await ffprobeJson(path) };
  }

  /** A preview anyone can play, of `size`, as long as its `source` (within 0.1 s). */
  async function expectReviewable(probe: Awaited<ReturnType<typeof ffprobeJson>>, size: { width: number; height: number }, source: string) {
    const video = probe.streams.filter((s) => s.codec_type === 'video');
    const audio = probe.streams.filter((s) => s.codec_type === 'audio');
    expect(probe.streams).toHaveLength(2);
    expect(video[0]).toMatchObject({ codec_name: 'h264', profile: 'High', pix_fmt: 'yuv420p', ...size });
    expect(video[0]?.side_data_list ?? []).toEqual([]); // no display matrix left: the picture is upright as stored
    expect(audio[0]).toMatchObject({ codec_name: 'aac', sample_rate: '48000', channels: 2 });
    expect(Object.keys(probe.format.tags ?? {}).filter((t) => !ALLOWED_FORMAT_TAGS.includes(t))).toEqual([]);
    for (const stream of probe.streams) expect(Object.keys(stream.tags ?? {}).filter((t) => !ALLOWED_STREAM_TAGS.includes(t))).toEqual([]);
    expect(probe.chapters).toEqual([]);
    const sourceSeconds = Number((await ffprobeJson(source)).format.duration);
    expect(sourceSeconds).toBeGreaterThan(1);
    expect(Math.abs(Number(probe.format.duration) - sourceSeconds)).toBeLessThanOrEqual(0.1);
  }

  test('when a portrait phone clip is stored sideways with a display matrix, then the preview is upright 360×640 with a poster', async () => {
    const source = await FIXTURES.rotated!();
    const done = await runWorker(deps, await submitFile(app, source));
    expect(done.status).toBe('in_review');
    const { path, probe } = await preview(done);
    await expectReviewable(probe, { width: 360, height: 640 }, source);
    // The recorded checksum and size are those of the stored object.
    const stored = await readFile(path);
    expect(done.outputs.preview).toMatchObject({ bytes: stored.length, sha256: createHash('sha256').update(stored).digest('hex') });
    const poster = await ffprobeJson(await downloadOutput(deps, done, 'poster'));
    expect(poster.streams[0]).toMatchObject({ codec_name: 'mjpeg', width: 360, height: 640 });
    expect(done.media).toMatchObject({ video: { rotation: 90, displayWidth: 360, displayHeight: 640 } });
    // Upright as ffmpeg's own autorotation shows it: the same picture, pixel for pixel within encoding noise.
    const gray = async (path: string, autorotate: boolean) =>
      (await run('ffmpeg', ['-v', 'error', ...(autorotate ? [] : ['-noautorotate']), '-i', path, '-frames:v', '1', '-vf', 'scale=36:64', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { encoding: 'buffer' })).stdout as Buffer;
    const [ours, reference] = [await gray(await downloadOutput(deps, done, 'preview'), false), await gray(await FIXTURES.rotated!(), true)];
    const meanDifference = ours.reduce((sum, byte, i) => sum + Math.abs(byte - (reference[i] ?? 0)), 0) / ours.length;
    expect(meanDifference).toBeLessThan(8);
    expect(done.history.map((h) => h.transition)).toEqual(['processing_started', 'processing_succeeded']);
  });

  test('when the clip is 10-bit HLG HEVC, then the preview is tone-mapped 8-bit SDR BT.709 H.264', async () => {
    const source = await FIXTURES.hlgHevc!();
    const done = await runWorker(deps, await submitFile(app, source));
    expect(done.status).toBe('in_review');
    const { probe } = await preview(done);
    await expectReviewable(probe, { width: 1280, height: 720 }, source);
    expect(probe.streams[0]).toMatchObject({ color_transfer: 'bt709', color_primaries: 'bt709', color_space: 'bt709' });
  });

  test('when the frame rate is variable, then the preview has a constant one', async () => {
    const done = await runWorker(deps, await submitFile(app, await FIXTURES.vfr!()));
    const { probe } = await preview(done);
    const video = probe.streams[0]!;
    expect(video.avg_frame_rate).toBe(video.r_frame_rate);
  });

  test('when the clip has no sound, then the preview still has one (silent) stereo track', async () => {
    const source = await FIXTURES.noAudio!();
    const done = await runWorker(deps, await submitFile(app, source));
    await expectReviewable((await preview(done)).probe, { width: 640, height: 360 }, source);
  });

  test.each([['appleTagged'], ['androidTagged']])('when the clip carries %s metadata (GPS, make, model, dates, chapters, timecode track), then none of it survives', async (fixture) => {
    const source = await FIXTURES[fixture]!();
    const before = await ffprobeJson(source);
    expect(JSON.stringify(before)).toMatch(/53\.9006/); // the fixture really has GPS
    const done = await runWorker(deps, await submitFile(app, source));
    const { path, probe } = await preview(done);
    await expectReviewable(probe, { width: 640, height: 360 }, source);
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format_tags:stream_tags', '-of', 'json', path]);
    expect(stdout).not.toMatch(/53\.9006|Apple|iPhone|android|2024-03-01|Minsk|Jane Doe/i);
    const bytes = await readFile(path);
    expect(bytes.includes(Buffer.from('53.9006'))).toBe(false);
    expect(bytes.includes(Buffer.from('iPhone'))).toBe(false);
  });

  test.each([
    ['audio only', () => FIXTURES.audioOnly!(), 'audio_only'],
    ['a playlist disguised as .mp4', () => playlistDisguisedAsMp4(), 'not_a_video'],
    ['a tiny file declaring ten hours', () => FIXTURES.tenHourClaim!(), 'truncated'],
    ['random bytes behind an MP4 header', async () => Buffer.concat([Buffer.from('\0\0\0\x18ftypisom\0\0\x02\0isomiso2', 'latin1'), Buffer.alloc(50_000, 9)]), 'corrupt'],
  ])('when the clip is %s, then it is rejected with a clear reason and nothing is produced', async (_what, make, code) => {
    const done = await runWorker(deps, await submitFile(app, await make()));
    expect(done.status).toBe('rejected');
    expect(done.rejection?.code).toBe(code);
    expect(done.rejection?.reason.length).toBeGreaterThan(20);
    expect(await app.services.storage.list(`outputs/${done._id.toHexString()}/`)).toEqual([]);
  });

  test.each([
    ['windows-1251', (text: string) => Buffer.from([...text].map((c) => cp1251(c)))],
    ['UTF-8', (text: string) => Buffer.from(text, 'utf8')],
  ])('when Cyrillic subtitles come in %s, then UTF-8 sidecars are written and the captions are burned into a second preview', async (_encoding, encode) => {
    const text = '1\r\n00:00:00,200 --> 00:00:02,800\r\nСвабоду палітвязням!\r\n';
    const source = await FIXTURES.rotated!();
    const done = await runWorker(deps, await submitFile(app, source, { subtitles: encode(text), language: 'be' }));
    expect(done.status).toBe('in_review');
    const vtt = await readFile(await downloadOutput(deps, done, 'captionsVtt'), 'utf8');
    expect(vtt).toBe('WEBVTT\n\n00:00:00.200 --> 00:00:02.800\nСвабоду палітвязням!\n');
    const captioned = await preview(done, 'captionedPreview');
    await expectReviewable(captioned.probe, { width: 360, height: 640 }, source);
    // The captioned preview differs from the plain one where the caption is: the text was rendered.
    const plain = (await preview(done)).path;
    const frame = async (path: string) => (await run('ffmpeg', ['-v', 'error', '-ss', '1.5', '-i', path, '-frames:v', '1', '-vf', 'crop=iw:ih/4:0:ih*3/4', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { encoding: 'buffer', maxBuffer: 1 << 24 })).stdout as Buffer;
    const [a, b] = [await frame(plain), await frame(captioned.path)];
    const differing = a.reduce((n, byte, i) => n + (Math.abs(byte - (b[i] ?? 0)) > 40 ? 1 : 0), 0);
    expect(differing / a.length).toBeGreaterThan(0.01);
  });

  test('when the subtitle file is broken, then the clip is rejected with the line that is wrong', async () => {
    const srt = Buffer.from('1\n00:00:00,200 --> 00:00:01,000\nHi\n\n2\n00:00:01,000 => 00:00:02,000\nThere\n');
    const done = await runWorker(deps, await submitFile(app, await FIXTURES.noAudio!(), { subtitles: srt }));
    expect(done.rejection).toEqual({ code: 'subtitles_invalid', reason: expect.stringContaining('line 6') });
  });

  test('when the same job runs twice, or two copies race, then there is one set of outputs and one transition to review', async () => {
    const id = await submitFile(app, await FIXTURES.noAudio!());
    await Promise.all([processSubmission(deps, fakeJob(id)), processSubmission(deps, fakeJob(id))]);
    await processSubmission(deps, fakeJob(id, 2)); // a late duplicate
    const done = (await deps.db.submissions.findById(id).lean<Submission>())!;
    expect(done.status).toBe('in_review');
    expect(done.history.filter((h) => h.transition === 'processing_succeeded')).toHaveLength(1);
    await expectOnlyRecordedOutputs(deps, done, ['master', 'poster', 'preview']);
  });

  test('when ffmpeg hangs, then the timeout kills its whole process group', async () => {
    const marker = `hung-ffmpeg-${process.pid}`;
    const fake = join(tmpdir(), `${marker}.sh`);
    // A stand-in ffmpeg that starts a child and never returns.
    await writeFile(fake, `#!/bin/sh\nsleep 300 # ${marker}\n`);
    await writeFile(`${fake}.parent`, `#!/bin/sh\n/bin/sh ${fake} &\nwait\n`);
    await chmod(`${fake}.parent`, 0o755);
    const started = Date.now();
    await expect(
      runFfmpeg({ globalArgs: [], inputs: [{ args: [], path: 'x' }], outputs: [{ args: [], path: join(tmpdir(), 'never.mp4') }] }, { ...deps.limits, ffmpegPath: `${fake}.parent`, timeoutSeconds: 1 }),
    ).rejects.toMatchObject({ kind: 'timeout' } satisfies Partial<FfmpegError>);
    expect(Date.now() - started).toBeLessThan(10_000);
    // pgrep exits 1 when nothing matches: the stand-in and its child are gone.
    const left = () => run('pgrep', ['-f', marker]).then((r) => r.stdout.trim(), () => '');
    await waitUntil(async () => (await left()) === '', { timeoutMs: 5_000, what: "the hung ffmpeg's process group to be gone", seen: left });
  });
});

function cp1251(char: string): number {
  const decoder = new TextDecoder('windows-1251');
  for (let byte = 0; byte < 256; byte += 1) if (decoder.decode(Buffer.from([byte])) === char) return byte;
  return 0x3f;
}

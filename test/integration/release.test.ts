import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { releaseJobId, type QueueJob } from '../../shared/queue/queue';
import { approve, withdraw } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import type { WorkerDeps } from '../../worker/deps';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { reconcile, RECONCILE } from '../../worker/reconciler';
import { FIXTURES, ffprobeJson, loudness } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { ALLOWED_FORMAT_TAGS, ALLOWED_STREAM_TAGS, downloadOutput, runWorker, submitFile, workerDeps } from '../helpers/worker-env';

const run = promisify(execFile);

function releaseJob(submissionId: string, attempt = 1): QueueJob<'release-submission'> {
  return { id: releaseJobId(submissionId), name: 'release-submission', payload: { submissionId }, attempt, maxAttempts: 6, reportProgress: async () => undefined };
}

const SRT = Buffer.from('1\n00:00:00,200 --> 00:00:02,800\nСвабоду палітвязням!\n');

/** Release renders from the master, on real ffmpeg, S3 and the database; every render checked with ffprobe. */
describe('the release renders', () => {
  let app: TestApp;
  let deps: WorkerDeps;

  beforeAll(async () => {
    app = await startTestApp({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
    await seedDemoCampaign(app.deps);
    deps = workerDeps(app);
  });

  afterAll(async () => {
    await app.close();
  });

  const load = async (id: string) => (await deps.db.submissions.findById(id).lean<Submission>())!;

  /** A processed clip (the real worker), approved by a moderator with the queue at hand. */
  async function approvedClip(fixture: string, options: { subtitles?: Buffer } = {}): Promise<string> {
    const done = await runWorker(deps, await submitFile(app, await FIXTURES[fixture]!(), { ...options, language: 'be' }));
    expect(done.status).toBe('in_review');
    const id = done._id.toHexString();
    await approve(deps.db.submissions, id, { by: 'moderator', queue: deps.queue });
    return id;
  }

  /** Differing share of gray pixels between two renders' frames at 1.5 s, in a band of the height (fractions). */
  async function captionDifference(plain: string, captioned: string, band: { from: number; to: number }): Promise<number> {
    const crop = `crop=iw:ih*${band.to - band.from}:0:ih*${band.from}`;
    const frame = async (path: string) =>
      (await run('ffmpeg', ['-v', 'error', '-ss', '1.5', '-i', path, '-frames:v', '1', '-vf', crop, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { encoding: 'buffer', maxBuffer: 1 << 24 })).stdout as Buffer;
    const [a, b] = [await frame(plain), await frame(captioned)];
    return a.reduce((n, byte, i) => n + (Math.abs(byte - (b[i] ?? 0)) > 40 ? 1 : 0), 0) / a.length;
  }

  function expectCleanRender(probe: Awaited<ReturnType<typeof ffprobeJson>>, size: { width: number; height: number }, aspect: string) {
    expect(probe.streams.map((s) => s.codec_type)).toEqual(['video', 'audio']);
    expect(probe.streams[0]).toMatchObject({ codec_name: 'h264', profile: 'High', pix_fmt: 'yuv420p', display_aspect_ratio: aspect, sample_aspect_ratio: '1:1', ...size });
    expect(probe.streams[0]!.side_data_list ?? []).toEqual([]);
    expect(probe.streams[1]).toMatchObject({ codec_name: 'aac', sample_rate: '48000', channels: 2 });
    expect(Object.keys(probe.format.tags ?? {}).filter((t) => !ALLOWED_FORMAT_TAGS.includes(t))).toEqual([]);
    for (const stream of probe.streams) expect(Object.keys(stream.tags ?? {}).filter((t) => !ALLOWED_STREAM_TAGS.includes(t))).toEqual([]);
    expect(probe.chapters).toEqual([]);
  }

  test('when a captioned portrait clip is approved, then its release job is queued and makes every shape, plain and captioned, and only then is it released', async () => {
    const id = await approvedClip('rotated', { subtitles: SRT });
    expect(await deps.queue.jobState(releaseJobId(id))).toBe('waiting');
    await releaseSubmission(deps, releaseJob(id));
    const released = await load(id);
    expect(released.status).toBe('released');
    expect(released.history.map((h) => h.transition)).toEqual(['processing_started', 'processing_succeeded', 'approved', 'release_started', 'release_finished']);
    expect(released.release).toMatchObject({ languages: ['be'], lastError: null, uses: ['social', 'web'], credit: false }); // the demo consent: publish (social, web), no credit
    expect(Object.keys(released.release!.outputs).sort()).toEqual(
      ['captions-be-srt', 'captions-be-vtt', 'poster-source', 'poster-square', 'poster-vertical', 'source', 'source-be', 'square', 'square-be', 'vertical', 'vertical-be'].sort(),
    );
    // Exactly the recorded objects are stored, under the clip's release folder.
    expect((await app.services.storage.list(`releases/${id}/`)).sort()).toEqual(Object.values(released.release!.outputs).map((o) => o.key).sort());

    const asRelease = { ...released, outputs: released.release!.outputs } as Submission;
    const previewLoudness = (await loudness(await downloadOutput(deps, released, 'preview'))).integrated;
    const shapes = [
      ['source', { width: 360, height: 640 }, '9:16', { from: 0.7, to: 1 }],
      ['square', { width: 640, height: 640 }, '1:1', { from: 0.7, to: 1 }],
      ['vertical', { width: 360, height: 640 }, '9:16', { from: 0.55, to: 0.8 }],
    ] as const;
    for (const [shape, size, aspect, captionBand] of shapes) {
      const plain = await downloadOutput(deps, asRelease, shape);
      const captioned = await downloadOutput(deps, asRelease, `${shape}-be`);
      expectCleanRender(await ffprobeJson(plain), size, aspect);
      expectCleanRender(await ffprobeJson(captioned), size, aspect);
      expect(await captionDifference(plain, captioned, captionBand)).toBeGreaterThan(0.01);
      // The same loudness as the preview (the master's sound, copied).
      expect(Math.abs((await loudness(plain)).integrated - previewLoudness)).toBeLessThan(0.5);
      const poster = await ffprobeJson(await downloadOutput(deps, asRelease, `poster-${shape}`));
      expect(poster.streams[0]).toMatchObject({ codec_name: 'mjpeg', ...size });
    }
    // 9:16: the captions stay out of the bottom fifth, where the platforms' own controls sit.
    const vertical = [await downloadOutput(deps, asRelease, 'vertical'), await downloadOutput(deps, asRelease, 'vertical-be')] as const;
    expect(await captionDifference(vertical[0], vertical[1], { from: 0.8, to: 1 })).toBeLessThan(0.001);
    const vtt = await run('cat', [await downloadOutput(deps, asRelease, 'captions-be-vtt')]);
    expect(vtt.stdout).toBe('WEBVTT\n\n00:00:00.200 --> 00:00:02.800\nСвабоду палітвязням!\n');
  });

  test('when a landscape clip without captions is released, then 16:9, 1:1 and 9:16 are made over a blurred fill', async () => {
    const id = await approvedClip('noAudio');
    await releaseSubmission(deps, releaseJob(id));
    const released = await load(id);
    expect(released.status).toBe('released');
    expect(released.release!.languages).toEqual([]);
    const asRelease = { ...released, outputs: released.release!.outputs } as Submission;
    expectCleanRender(await ffprobeJson(await downloadOutput(deps, asRelease, 'source')), { width: 640, height: 360 }, '16:9');
    expectCleanRender(await ffprobeJson(await downloadOutput(deps, asRelease, 'square')), { width: 640, height: 640 }, '1:1');
    const vertical = await downloadOutput(deps, asRelease, 'vertical');
    expectCleanRender(await ffprobeJson(vertical), { width: 360, height: 640 }, '9:16');
    // Above and below the fitted picture is the blurred fill, not black bars.
    const { stdout } = await run('ffmpeg', ['-v', 'error', '-ss', '1', '-i', vertical, '-frames:v', '1', '-vf', 'crop=iw:ih/8:0:0', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { encoding: 'buffer' });
    const top = stdout as unknown as Buffer;
    expect(top.reduce((sum, byte) => sum + byte, 0) / top.length).toBeGreaterThan(30);
  });

  test('when a render fails, then the clip stays releasing with the reason and the retry completes it; a re-run overwrites rather than adds', async () => {
    const id = await approvedClip('noAudio');
    const broken = workerDeps(app, { limits: { ...deps.limits, ffmpegPath: '/nonexistent/ffmpeg' } });
    await expect(releaseSubmission(broken, releaseJob(id))).rejects.toThrow();
    const failed = await load(id);
    expect(failed.status).toBe('releasing');
    expect(failed.release!.lastError).toEqual(expect.any(String));

    await releaseSubmission(deps, releaseJob(id, 2));
    const first = await load(id);
    expect(first.status).toBe('released');
    const keys = (await app.services.storage.list(`releases/${id}/`)).sort();
    expect(keys).toHaveLength(6);

    // As if the finish had been lost after the upload: the job runs again over the same keys.
    await deps.db.submissions.updateOne({ _id: id }, { $set: { status: 'releasing' } });
    await releaseSubmission(deps, releaseJob(id, 3));
    expect((await load(id)).status).toBe('released');
    expect((await app.services.storage.list(`releases/${id}/`)).sort()).toEqual(keys);
  });

  /** As if processed before masters were made: no master recorded or stored. */
  async function withoutMaster(id: string): Promise<void> {
    const masterKey = (await load(id)).outputs.master!.key;
    await app.services.storage.remove(masterKey);
    await deps.db.submissions.updateOne({ _id: id }, { $unset: { 'outputs.master': '' } });
  }

  test('when an approved clip has no master (processed before masters were made), then the release makes it again from the original and releases every shape', async () => {
    const id = await approvedClip('rotated', { subtitles: SRT });
    await withoutMaster(id);
    await releaseSubmission(deps, releaseJob(id));
    const released = await load(id);
    expect([released.status, released.release!.lastError]).toEqual(['released', null]);
    const asRelease = { ...released, outputs: released.release!.outputs } as Submission;
    expectCleanRender(await ffprobeJson(await downloadOutput(deps, asRelease, 'source')), { width: 360, height: 640 }, '9:16');
    expectCleanRender(await ffprobeJson(await downloadOutput(deps, asRelease, 'vertical-be')), { width: 360, height: 640 }, '9:16');
    // Nothing of the remade master is kept: only the release set.
    expect((await app.services.storage.list(`outputs/${id}/`)).filter((k) => k.endsWith('master.mp4'))).toEqual([]);
  });

  test('when an approved clip has no master and its original was deleted, then the job stops without a retry and the clip stays releasing with the reason', async () => {
    const id = await approvedClip('noAudio');
    await withoutMaster(id);
    await app.services.storage.remove((await load(id)).original.key);
    await deps.db.submissions.updateOne({ _id: id }, { $set: { originalDeletedAt: new Date() } });
    await expect(releaseSubmission(deps, releaseJob(id))).resolves.toBeUndefined(); // no throw: the queue does not retry
    const stuck = await load(id);
    expect(stuck.status).toBe('releasing');
    expect(stuck.release!.lastError).toBe('the clip has no master (it was processed before masters were made) and its original has been deleted: it cannot be released');
    expect(await app.services.storage.list(`releases/${id}/`)).toEqual([]);
  });

  test('when a clip is withdrawn before its release runs, then nothing is rendered', async () => {
    const id = await approvedClip('noAudio');
    await withdraw(deps.db.submissions, id, { by: 'contributor' });
    await releaseSubmission(deps, releaseJob(id));
    expect((await load(id)).status).toBe('withdrawn');
    expect(await app.services.storage.list(`releases/${id}/`)).toEqual([]);
  });

  test('when an approved clip has no release job (the enqueue was lost), then the reconciler queues one', async () => {
    const done = await runWorker(deps, await submitFile(app, await FIXTURES.noAudio!()));
    const id = done._id.toHexString();
    await approve(deps.db.submissions, id, { by: 'moderator' }); // no queue: as if the enqueue had failed
    expect(await deps.queue.jobState(releaseJobId(id))).toBeNull();
    await reconcile(deps, new Date(Date.now() + RECONCILE.receivedGraceMs + 1_000));
    expect(await deps.queue.jobState(releaseJobId(id))).toBe('waiting');
  });
});

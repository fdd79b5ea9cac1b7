import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { releaseJobId } from '../../shared/queue/queue';
import { approve } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import { clearBranding, setBranding } from '../../server/services/release-branding.service';
import type { WorkerDeps } from '../../worker/deps';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { shapeSize, WATERMARK_AREAS } from '../../worker/steps/release.step';
import { FIXTURES, ffprobeJson, makeFixture } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { downloadOutput, runWorker, submitFile, workerDeps } from '../helpers/worker-env';

const run = promisify(execFile);

/** One frame (at `at` seconds, or `-sseof` when negative) of a video, cropped, as gray bytes. */
async function frame(path: string, at: number, crop: string): Promise<Buffer> {
  const seek = at < 0 ? ['-sseof', String(at)] : ['-ss', String(at)];
  return (await run('ffmpeg', ['-v', 'error', ...seek, '-i', path, '-frames:v', '1', '-vf', `crop=${crop}`, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { encoding: 'buffer', maxBuffer: 1 << 25 })).stdout as Buffer;
}

const differing = (a: Buffer, b: Buffer) => a.reduce((n, byte, i) => n + (Math.abs(byte - (b[i] ?? 0)) > 40 ? 1 : 0), 0) / a.length;
const meanDifference = (a: Buffer, b: Buffer) => a.reduce((n, byte, i) => n + Math.abs(byte - (b[i] ?? 0)), 0) / a.length;
const duration = async (path: string) => Number((await ffprobeJson(path)).format.duration);

/** A campaign's watermark and end card on every release render, checked on the pixels and with ffprobe. */
describe('release branding', () => {
  let app: TestApp;
  let deps: WorkerDeps;
  const services = () => ({ db: app.services.db, storage: app.services.storage });

  beforeAll(async () => {
    app = await startTestApp({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
    await seedDemoCampaign(app.deps);
    deps = workerDeps(app);
  });

  afterAll(async () => {
    await app.close();
  });

  async function released(): Promise<Submission> {
    const id = (await runWorker(deps, await submitFile(app, await FIXTURES.rotated!())))._id.toHexString();
    await approve(deps.db.submissions, id, { by: 'moderator' });
    await releaseSubmission(deps, { id: releaseJobId(id), name: 'release-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined });
    const done = (await deps.db.submissions.findById(id).lean<Submission>())!;
    expect(done.status).toBe('released');
    return { ...done, outputs: done.release!.outputs } as Submission;
  }

  test('when a file is not a PNG, or the end card lasts too long, then it is refused and nothing is set', async () => {
    await expect(setBranding(services(), 'demo', 'watermark', Buffer.from('GIF89a not a png at all, really not'))).rejects.toMatchObject({ code: 'branding_not_png' });
    const card = await readFile(await makeFixture('end-card.png', ['-f', 'lavfi', '-i', 'color=c=0x2040c0:s=640x360', '-frames:v', '1']));
    await expect(setBranding(services(), 'demo', 'end-card', card, { seconds: 60 })).rejects.toMatchObject({ code: 'branding_seconds_invalid' });
    await expect(setBranding(services(), 'nope', 'end-card', card)).rejects.toMatchObject({ code: 'campaign_not_found' });
    expect((await app.services.db.campaigns.findOne({ slug: 'demo' }).lean())!.release ?? null).toBeNull();
  });

  test('when the end card\'s seconds are outside 1–10 or not whole, then they are refused; 1 and 10 are taken', async () => {
    const card = await readFile(await makeFixture('end-card.png', ['-f', 'lavfi', '-i', 'color=c=0x2040c0:s=640x360', '-frames:v', '1']));
    for (const seconds of [0, -1, 11, 2.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(setBranding(services(), 'demo', 'end-card', card, { seconds })).rejects.toMatchObject({ code: 'branding_seconds_invalid' });
    }
    expect((await app.services.db.campaigns.findOne({ slug: 'demo' }).lean())!.release ?? null).toBeNull();
    for (const seconds of [1, 10]) expect((await setBranding(services(), 'demo', 'end-card', card, { seconds })).endCardSeconds).toBe(seconds);
    await clearBranding(services(), 'demo', 'end-card');
  });

  test('when a campaign record is written with end card seconds outside 1–10 or not whole, then the database model refuses it', async () => {
    const release = (endCardSeconds: number) => ({ watermarkKey: null, endCardKey: null, endCardSeconds });
    const stored = async () => (await app.services.db.campaigns.findOne({ slug: 'demo' }).lean())!.release ?? null;
    const before = await stored();
    for (const seconds of [0, -1, 11, 2.5]) {
      await expect(app.services.db.campaigns.updateOne({ slug: 'demo' }, { $set: { release: release(seconds) } }, { runValidators: true })).rejects.toThrow(/endCardSeconds/);
      const campaign = (await app.services.db.campaigns.findOne({ slug: 'demo' }))!;
      campaign.set('release', release(seconds));
      await expect(campaign.validate()).rejects.toThrow(/endCardSeconds/);
    }
    expect(await stored()).toEqual(before);
  });

  test('when the campaign has a watermark, then every render differs from the plain one in its corner and nowhere else; with an end card, every render is longer by its seconds and ends on the card', async () => {
    const plain = await released();

    const logo = await readFile(await makeFixture('watermark.png', ['-f', 'lavfi', '-i', 'color=c=white:s=200x100', '-vf', 'drawbox=x=20:y=20:w=160:h=60:color=black:t=fill', '-frames:v', '1']));
    await setBranding(services(), 'demo', 'watermark', logo);
    const marked = await released();
    for (const shape of ['source', 'square', 'vertical'] as const) {
      const [a, b] = [await downloadOutput(deps, plain, shape), await downloadOutput(deps, marked, shape)];
      const size = shapeSize(shape, { width: 360, height: 640 });
      const area = WATERMARK_AREAS[shape];
      const box = Math.round(Math.min(size.width, size.height) * area.size);
      const corner = `${box}:${Math.round(box / 2)}:${Math.round(size.width * area.left)}:${Math.round(size.height * area.top)}`;
      expect([shape, differing(await frame(a, 1.5, corner), await frame(b, 1.5, corner)) > 0.3]).toEqual([shape, true]);
      const lowerHalf = `iw:ih/2:0:ih/2`;
      expect([shape, differing(await frame(a, 1.5, lowerHalf), await frame(b, 1.5, lowerHalf)) < 0.002]).toEqual([shape, true]);
      // The watermark is no part of the length.
      expect(Math.abs((await duration(b)) - (await duration(a)))).toBeLessThan(0.1);
    }

    await clearBranding(services(), 'demo', 'watermark');
    const card = await makeFixture('end-card.png', ['-f', 'lavfi', '-i', 'color=c=0x2040c0:s=640x360', '-frames:v', '1']);
    await setBranding(services(), 'demo', 'end-card', await readFile(card), { seconds: 2 });
    const ended = await released();
    for (const shape of ['source', 'square', 'vertical'] as const) {
      const [a, b] = [await downloadOutput(deps, plain, shape), await downloadOutput(deps, ended, shape)];
      expect(Math.abs((await duration(b)) - (await duration(a)) - 2)).toBeLessThan(0.15);
      const probe = await ffprobeJson(b);
      expect(probe.streams.map((s) => s.codec_type)).toEqual(['video', 'audio']);
      expect(Math.abs(Number(probe.streams[1]!.duration) - Number(probe.streams[0]!.duration))).toBeLessThan(0.15);
      // The last frame is the card, fitted into the frame (black around it where the shapes differ).
      const size = shapeSize(shape, { width: 360, height: 640 });
      const expected = (await run('ffmpeg', ['-v', 'error', '-i', card, '-vf', `scale=${size.width}:${size.height}:force_original_aspect_ratio=decrease,pad=${size.width}:${size.height}:(ow-iw)/2:(oh-ih)/2:color=black,format=yuv420p`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { encoding: 'buffer', maxBuffer: 1 << 25 })).stdout as Buffer;
      expect([shape, meanDifference(await frame(b, -0.1, 'iw:ih:0:0'), expected) < 3]).toEqual([shape, true]);
      // The start is the clip, not the card.
      expect(differing(await frame(a, 0.5, 'iw:ih:0:0'), await frame(b, 0.5, 'iw:ih:0:0'))).toBeLessThan(0.002);
    }
    // The sound under the card is silence.
    const tail = await run('ffmpeg', ['-v', 'info', '-sseof', '-1.5', '-i', await downloadOutput(deps, ended, 'source'), '-vn', '-af', 'volumedetect', '-f', 'null', '-'], { encoding: 'utf8' });
    expect(Number(/max_volume: (-?[\d.]+|-inf) dB/.exec(tail.stderr)?.[1] ?? '0')).toBeLessThan(-60);
    await clearBranding(services(), 'demo', 'end-card');
  });
});

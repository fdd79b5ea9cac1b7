import type { Submission } from '../../shared/submissions/submission.model';
import { LOUDNESS, MAX_GAIN_DB } from '../../worker/steps/loudness.step';
import { clipAtLoudness, HUM, loudness, makeFixture, SPEECH_LIKE } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { downloadOutput, runWorker, submitFile, workerDeps } from '../helpers/worker-env';
import type { WorkerDeps } from '../../worker/deps';

/**
 * Loudness is measured first and then ONE gain is applied (and a true-peak limiter where peaks need it):
 * quiet speech reaches −14 LUFS, a near-silent hum is lifted by no more than the ceiling, silence stays
 * silence, and a clip's loud and quiet parts keep their difference.
 */
describe('loudness', () => {
  let app: TestApp;
  let deps: WorkerDeps;

  beforeAll(async () => {
    app = await startTestApp();
    await seedDemoCampaign(app.deps);
    deps = workerDeps(app);
  });

  afterAll(async () => {
    await app.close();
  });

  async function preview(source: string): Promise<{ path: string; done: Submission }> {
    const done = await runWorker(deps, await submitFile(app, source));
    expect(done.status).toBe('in_review');
    return { path: await downloadOutput(deps, done, 'preview'), done };
  }

  test('when speech-like sound is at −40 LUFS, then the preview is at −14 LUFS (±1 LU) with true peak ≤ −1.5 dBTP', async () => {
    const source = await clipAtLoudness('speech-40', SPEECH_LIKE(4), -40, 4);
    const before = await loudness(source);
    expect(before.integrated).toBeCloseTo(-40, 0);
    const { path, done } = await preview(source);
    const after = await loudness(path);
    expect(Math.abs(after.integrated - LOUDNESS.integrated)).toBeLessThanOrEqual(1);
    expect(after.truePeak).toBeLessThanOrEqual(LOUDNESS.truePeak + 0.2);
    // The measurement is kept with the clip's media description.
    expect((done.media as { audio: { loudness: { integrated: number } } }).audio.loudness.integrated).toBeCloseTo(before.integrated, 0);
  });

  test('when the sound is a −64 LUFS hum, then it is lifted by no more than the ceiling', async () => {
    const source = await clipAtLoudness('hum-64', HUM(3), -64, 3);
    const before = await loudness(source);
    expect(before.integrated).toBeCloseTo(-64, 0);
    const after = await loudness((await preview(source)).path);
    expect(after.integrated - before.integrated).toBeLessThanOrEqual(MAX_GAIN_DB + 0.5);
    expect(after.integrated - before.integrated).toBeGreaterThan(MAX_GAIN_DB - 1);
  });

  test('when the sound track is silent, then the preview is silent too', async () => {
    const source = await makeFixture('silent-track.mp4', [
      '-f', 'lavfi', '-i', 'testsrc2=duration=2:size=320x180:rate=10', '-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=stereo',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-t', '2',
    ]);
    const after = await loudness((await preview(source)).path);
    expect(after.integrated).toBe(-70);
    expect(after.truePeak).toBe(-Infinity);
  });

  test('when a clip has a loud part and a quiet part 14 LU apart, then they are still 14 LU apart (±1)', async () => {
    // 8 s of speech-like sound, then 8 s of the same 14 dB quieter: long enough for a dynamic normaliser to even them out.
    const twoLevels = `${SPEECH_LIKE(16, 11)},volume='if(lt(t,8),1,0.2)':eval=frame`;
    const source = await clipAtLoudness('loud-then-quiet-16s', twoLevels, -30, 16);
    const parts = { loud: { from: 1, to: 7.5 }, quiet: { from: 9, to: 15.5 } };
    const [loudBefore, quietBefore] = [await loudness(source, parts.loud), await loudness(source, parts.quiet)];
    expect(loudBefore.integrated - quietBefore.integrated).toBeCloseTo(14, 0);
    const path = (await preview(source)).path;
    const [loudAfter, quietAfter] = [await loudness(path, parts.loud), await loudness(path, parts.quiet)];
    expect(Math.abs(loudAfter.integrated - quietAfter.integrated - (loudBefore.integrated - quietBefore.integrated))).toBeLessThanOrEqual(1);
    expect(loudAfter.integrated).toBeGreaterThan(loudBefore.integrated); // it was lifted, as a whole
  });
});

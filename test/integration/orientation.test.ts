import type { Submission } from '../../shared/submissions/submission.model';
import { ffprobeJson, orientedClip } from '../helpers/fixtures';
import { applyDisplayMatrix, EIGHT_ORIENTATIONS, grayFrame, psnr } from '../helpers/frames';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { downloadOutput, runWorker, submitFile, workerDeps } from '../helpers/worker-env';
import type { WorkerDeps } from '../../worker/deps';

/**
 * Every way a clip can be turned: each quarter turn, mirrored or not, with sound or without. The preview
 * and the poster carry no display matrix (players would turn them again) and show the picture the
 * original's matrix means: compared with the matrix applied by hand to the stored frame, and, where
 * ffmpeg 5.1's own autorotation is right (it ignores mirroring), with that too.
 */
const TURNS = [0, 90, 180, 270] as const;
const COMBOS = TURNS.flatMap((turn) => [false, true].flatMap((mirrored) => [true, false].map((withAudio) => [turn, mirrored, withAudio] as const)));

// Encoding noise between the original and the preview stays above 30 dB; a picture turned or mirrored wrongly is under 15 dB.
const SAME_PICTURE_DB = 28;

describe('orientation', () => {
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

  test.each(COMBOS)('when a clip is turned %i° (mirrored: %s, with sound: %s), then the preview and the poster show it upright and carry no display matrix', async (turn, mirrored, withAudio) => {
    const { path, matrix } = await orientedClip(turn, mirrored, withAudio);
    const done: Submission = await runWorker(deps, await submitFile(app, path));
    expect(done.status).toBe('in_review');
    const turned = turn === 90 || turn === 270;
    const size = turned ? { width: 96, height: 160 } : { width: 160, height: 96 };

    const previewPath = await downloadOutput(deps, done, 'preview');
    const posterPath = await downloadOutput(deps, done, 'poster');
    const [preview, poster] = [await ffprobeJson(previewPath), await ffprobeJson(posterPath)];
    const previewVideo = preview.streams.find((s) => s.codec_type === 'video');
    expect(previewVideo).toMatchObject(size);
    expect(previewVideo?.side_data_list ?? []).toEqual([]);
    expect(preview.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
    expect(poster.streams[0]).toMatchObject(size);
    expect(poster.streams[0]?.side_data_list ?? []).toEqual([]);

    // What the matrix means, applied by hand to the stored picture; and how a player shows our outputs.
    const stored = await grayFrame(path, { autorotate: false });
    const meant = applyDisplayMatrix(stored, matrix);
    const shownPreview = await grayFrame(previewPath, { autorotate: true });
    const shownPoster = await grayFrame(posterPath, { autorotate: true });
    expect(psnr(shownPreview, meant)).toBeGreaterThan(SAME_PICTURE_DB);
    expect(psnr(shownPoster, meant)).toBeGreaterThan(SAME_PICTURE_DB);
    if (!mirrored) expect(psnr(shownPreview, await grayFrame(path, { autorotate: true }))).toBeGreaterThan(SAME_PICTURE_DB);
    // The test picture has no symmetry: every other turn or mirror of it is clearly another picture.
    const others = EIGHT_ORIENTATIONS.map((m) => applyDisplayMatrix(stored, m)).filter((o) => o.width === meant.width && !o.data.equals(meant.data));
    expect(others).toHaveLength(3);
    for (const other of others) expect(psnr(shownPreview, other)).toBeLessThan(SAME_PICTURE_DB - 10);
  });
});

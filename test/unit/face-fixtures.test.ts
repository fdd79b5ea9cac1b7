import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createFaceDetector, type FaceDetector } from '../../worker/faces/face-detector';
import { faceFixtures, rgbFrame, type FaceFixture } from '../helpers/face-fixtures';
import { ffprobeJson } from '../helpers/fixtures';
import { matchFaces } from '../helpers/face-match';
import { createSecondDetector } from '../helpers/face-oracle';

const run = promisify(execFile);

/** The video frames' times in seconds, as stored. */
async function frameTimes(path: string): Promise<number[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', path]);
  return stdout.split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
}

describe('face fixtures (the sample group photos, panned and zoomed by ffmpeg)', () => {
  let fixtures: FaceFixture[];
  beforeAll(async () => {
    fixtures = await faceFixtures();
  }, 300_000);

  test('when made, then there are clips at 25 and 60 fps, one turned by a display matrix, one VFR, one without sound, each 3–6 s and 640–1280 px', async () => {
    expect(fixtures.map((f) => f.fps)).toEqual(expect.arrayContaining([25, 60]));
    expect(fixtures.filter((f) => f.rotated)).toHaveLength(1);
    expect(fixtures.filter((f) => f.vfr)).toHaveLength(1);
    expect(fixtures.filter((f) => !f.audio)).toHaveLength(1);
    for (const fixture of fixtures) {
      const probe = await ffprobeJson(fixture.path);
      const video = probe.streams.find((s) => s.codec_type === 'video')!;
      const audio = probe.streams.filter((s) => s.codec_type === 'audio');
      const seconds = Number(probe.format.duration);
      expect({ name: fixture.name, long: seconds >= 3 && seconds <= 6 }).toEqual({ name: fixture.name, long: true });
      expect(Math.max(Number(video.width), Number(video.height))).toBeGreaterThanOrEqual(640);
      expect(Math.max(Number(video.width), Number(video.height))).toBeLessThanOrEqual(1280);
      expect(audio).toHaveLength(fixture.audio ? 1 : 0);
      const rotation = (video.side_data_list as Array<{ rotation?: number }> | undefined)?.find((d) => d.rotation !== undefined)?.rotation;
      expect(rotation).toBe(fixture.rotated ? -90 : undefined);
      const times = await frameTimes(fixture.path);
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      const spread = Math.max(...gaps) - Math.min(...gaps);
      if (fixture.vfr) {
        // Frames dropped (gaps up to ≈ 130 ms), and times jittered by up to ±12 ms: most gaps are off the 30 fps grid.
        expect(spread).toBeGreaterThan(0.05);
        const offGrid = gaps.filter((g) => Math.abs(g * fixture.fps - Math.round(g * fixture.fps)) > 0.09);
        expect(offGrid.length).toBeGreaterThan(gaps.length / 2);
      } else {
        expect(video.r_frame_rate).toBe(`${fixture.fps}/1`);
        expect(spread).toBeLessThan(0.002);
      }
    }
  }, 120_000);

  test('when a turned clip is decoded as players show it, then it is portrait', async () => {
    const turned = fixtures.find((f) => f.rotated)!;
    const frame = await rgbFrame(turned.path, 360);
    expect(frame.height).toBe(640);
  }, 60_000);

  describe('their faces', () => {
    let detector: FaceDetector;
    let oracle: FaceDetector;
    beforeAll(async () => {
      detector = await createFaceDetector();
      oracle = await createSecondDetector();
    }, 120_000);
    afterAll(async () => {
      await detector?.close();
      await oracle?.close();
    });

    test('when two frames of each clip are decoded 640 px wide, then both detectors see faces and the worker’s finds ≥ 95 % of the second’s', async () => {
      let expected = 0;
      let matched = 0;
      const seen: Record<string, number> = {};
      for (const fixture of fixtures) {
        for (const at of [0.5, 2.5]) {
          const frame = await rgbFrame(fixture.path, 640, at);
          const [ours, theirs] = [await detector.detect(frame), await oracle.detect(frame)];
          expected += theirs.length;
          matched += matchFaces(theirs, ours).matched.length;
          seen[`${fixture.name}@${at}`] = ours.length;
        }
      }
      // Every frame shows at least one face to the worker's detector (the wide shot's are ≈ 20 px).
      expect(Object.entries(seen).filter(([, n]) => n === 0)).toEqual([]);
      expect(expected).toBeGreaterThanOrEqual(15);
      expect({ matched, expected, found: matched / expected >= 0.95 }).toMatchObject({ found: true });
    }, 180_000);
  });
});

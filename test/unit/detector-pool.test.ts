import { createDetectorPool, type DetectorPool } from '../../worker/faces/detector-pool';
import { createFaceDetector, type FaceDetector, type RgbFrame } from '../../worker/faces/face-detector';
import { rgbFrame, samplePhoto } from '../helpers/face-fixtures';

/**
 * The detector on two threads (detector-pool.ts): the same boxes as the detector in this thread, frame for frame,
 * with several frames looked at at once; a bad frame fails alone; a closed pool refuses frames.
 */
describe('face detector pool', () => {
  let pool: DetectorPool;
  let local: FaceDetector;
  let photos: RgbFrame[];

  beforeAll(async () => {
    [pool, local, photos] = await Promise.all([
      createDetectorPool(2),
      createFaceDetector(),
      Promise.all(([1, 2, 3, 4, 5, 6] as const).map((n) => rgbFrame(samplePhoto(n), 640))),
    ]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([pool?.close(), local?.close()]);
  });

  test('when six photos are given at once to two threads, then each gets exactly the boxes the detector in this thread finds', async () => {
    expect(pool.parallel).toBe(2);
    expect({ name: pool.name, version: pool.version, settings: pool.settings }).toEqual({ name: local.name, version: local.version, settings: local.settings });
    const pooled = await Promise.all(photos.map((frame) => pool.detect(frame)));
    const here: Awaited<ReturnType<FaceDetector['detect']>>[] = [];
    for (const frame of photos) here.push(await local.detect(frame));
    expect(pooled).toEqual(here);
    expect(pooled.flat().length).toBeGreaterThanOrEqual(20);
  }, 120_000);

  test('when a frame is not what it says, then that frame alone is refused with the detector\'s reason, and the pool goes on', async () => {
    const bad = { data: new Uint8Array(10), width: 4, height: 4 };
    const [refused, good] = await Promise.allSettled([pool.detect(bad), pool.detect(photos[0]!)]);
    expect(refused).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/a 4×4 RGB frame has 48 bytes, not 10/) } });
    expect(good).toMatchObject({ status: 'fulfilled' });
    expect((await pool.detect(photos[1]!)).length).toBeGreaterThan(0);
  }, 60_000);

  test('a frame handed to the pool is copied: the caller may reuse its buffer at once', async () => {
    const frame = { ...photos[2]!, data: Uint8Array.from(photos[2]!.data) };
    const pending = pool.detect(frame);
    frame.data.fill(0);
    expect(await pending).toEqual(await local.detect(photos[2]!));
  }, 60_000);

  test('with one thread, the detector runs in this thread; a closed pool refuses frames', async () => {
    const single = await createDetectorPool(1);
    expect(single.parallel).toBe(1);
    expect(await single.detect(photos[3]!)).toEqual(await local.detect(photos[3]!));
    await single.close();
    const closing = await createDetectorPool(2);
    await closing.close();
    await expect(closing.detect(photos[0]!)).rejects.toThrow(/closed/);
  }, 120_000);
});

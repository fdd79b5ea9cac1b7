import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as tf from '@tensorflow/tfjs-core';
import { blazefaceAnchors } from '../../worker/faces/blazeface';
import { createFaceDetector, tileTensor, type FaceDetector, type RgbFrame } from '../../worker/faces/face-detector';
import { rgbFrame, samplePhoto } from '../helpers/face-fixtures';
import { matchFaces } from '../helpers/face-match';
import { createSecondDetector } from '../helpers/face-oracle';

const run = promisify(execFile);
const PHOTOS = [1, 2, 3, 4, 5, 6] as const;

/** ffmpeg draws a frame from a lavfi source or a filter graph, as RGB24. */
async function drawn(width: number, height: number, args: string[]): Promise<RgbFrame> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', ...args, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { encoding: 'buffer', maxBuffer: 1 << 26 });
  if (stdout.length !== width * height * 3) throw new Error('ffmpeg drew no frame');
  return { data: stdout, width, height };
}

describe('face detector (BlazeFace on tfjs WASM)', () => {
  let detector: FaceDetector;
  let oracle: FaceDetector;
  const fetched: string[] = [];
  const realFetch = globalThis.fetch;

  beforeAll(async () => {
    // Anything fetched while these tests run (a model, a .wasm binary from a CDN) is noted here and fails them.
    globalThis.fetch = ((input: unknown) => {
      fetched.push(String(input));
      return Promise.reject(new Error('nothing may be fetched'));
    }) as typeof fetch;
    detector = await createFaceDetector();
    oracle = await createSecondDetector();
  }, 120_000);
  afterAll(async () => {
    globalThis.fetch = realFetch;
    await detector?.close();
    await oracle?.close();
  });

  test('when it starts, then it fetches nothing: the model and the .wasm binaries are read from node_modules', () => {
    expect(fetched).toEqual([]);
    expect(tf.getBackend()).toBe('wasm');
  });

  test('it says what it is and what it ran with (stored with each face track)', () => {
    expect(detector.name).toBe('blazeface');
    expect(detector.version).toBe('3.3.6');
    expect(detector.settings).toMatchObject({ backend: 'wasm', model: 'blazeface', maxDetected: 50, nmsIou: 0.1, tile: true, minScore: 0.3, modelFrom: '@vladmandic/human' });
  });

  test('when it looks at the group photos at 640 px, then it finds at least 95 % of the faces the second detector finds', async () => {
    let expected = 0;
    let matched = 0;
    const misses: string[] = [];
    for (const n of PHOTOS) {
      const frame = await rgbFrame(samplePhoto(n), 640);
      const [ours, theirs] = [await detector.detect(frame), await oracle.detect(frame)];
      const result = matchFaces(theirs, ours);
      expected += theirs.length;
      matched += result.matched.length;
      misses.push(...result.missed.map((m) => `sample${n}: ${JSON.stringify(m)}`));
    }
    // The six photos hold 22 faces; the second detector finds them all.
    expect(expected).toBeGreaterThanOrEqual(20);
    // On failure the diff shows which faces were missed.
    expect({ found: matched / expected >= 0.95, matched, expected, misses }).toMatchObject({ found: true });
  }, 120_000);

  test('when faces are small in a wide frame (≈ 16 px at 640 px), then the tiles find them and the whole frame alone does not', async () => {
    // Four people, the group 160 px wide on a plain wall: each face ≈ 16 px, 2.5 % of the frame's width.
    const frame = await drawn(640, 360, [
      '-i', samplePhoto(6), '-f', 'lavfi', '-i', 'color=c=0x4a5058:s=640x360',
      '-filter_complex', '[0:v]scale=160:-2[group];[1:v][group]overlay=x=80:y=90',
    ]);
    const untiled = await createFaceDetector({ tile: false });
    try {
      const theirs = await oracle.detect(frame);
      expect(theirs).toHaveLength(4);
      expect(matchFaces(theirs, await detector.detect(frame)).missed).toEqual([]);
      expect(matchFaces(theirs, await untiled.detect(frame)).missed.length).toBeGreaterThanOrEqual(1);
    } finally {
      await untiled.close();
    }
  }, 120_000);

  test('BlazeFace\'s anchors: 16×16 cells of 2 then 8×8 cells of 6, centred in their cells of the 256 px square', () => {
    const anchors = blazefaceAnchors();
    expect(anchors).toHaveLength(896);
    expect(anchors.slice(0, 3)).toEqual([[8, 8], [8, 8], [24, 8]]);
    expect(anchors[511]).toEqual([248, 248]);
    expect(anchors.slice(512, 519)).toEqual([[16, 16], [16, 16], [16, 16], [16, 16], [16, 16], [16, 16], [48, 16]]);
    expect(anchors[895]).toEqual([240, 240]);
  });

  test('when a frame holds no face (test patterns, a plain wall), then it finds none, tiled or not', async () => {
    // testsrc2 at 1280×720 (six tiles) and as the worker sees it, decoded 640 px wide. (At 640×360 drawn natively,
    // its pixel-noise checkerboard scores up to 0.6 as tiny faces, and so do fractals: spare boxes, never misses.)
    const patterns = [
      await drawn(1280, 720, ['-f', 'lavfi', '-i', 'testsrc2=size=1280x720']),
      await drawn(640, 360, ['-f', 'lavfi', '-i', 'testsrc2=size=1280x720', '-vf', 'scale=640:360']),
      await drawn(640, 360, ['-f', 'lavfi', '-i', 'smptehdbars=size=640x360']),
      await drawn(360, 640, ['-f', 'lavfi', '-i', 'testsrc=size=360x640']),
      await drawn(640, 360, ['-f', 'lavfi', '-i', 'color=c=0x4a5058:s=640x360']),
    ];
    for (const pattern of patterns) expect(await detector.detect(pattern)).toEqual([]);
  }, 60_000);

  test('a tile copied from the frame\'s bytes holds exactly the values of the frame\'s tensor sliced there, and a tile outside the frame is refused', async () => {
    const frame = await drawn(854, 480, ['-f', 'lavfi', '-i', 'testsrc2=size=854x480:rate=1']);
    const whole = tf.tensor3d(Int32Array.from(frame.data), [480, 854, 3], 'int32');
    for (const tile of [{ x: 0, y: 0, size: 480 }, { x: 374, y: 0, size: 480 }, { x: 101, y: 37, size: 256 }]) {
      const copied = tileTensor(frame, tile);
      const sliced = tf.slice(whole, [tile.y, tile.x, 0], [tile.size, tile.size, 3]);
      expect(copied.shape).toEqual(sliced.shape);
      expect(Buffer.from((await copied.data()).buffer).equals(Buffer.from((await sliced.data()).buffer))).toBe(true);
      tf.dispose([copied, sliced]);
    }
    whole.dispose();
    expect(() => tileTensor(frame, { x: 375, y: 0, size: 480 })).toThrow(/outside the 854×480 frame/);
  });

  test('when a frame is not what it says (bytes ≠ width × height × 3), then it is refused', async () => {
    await expect(detector.detect({ data: new Uint8Array(640 * 360 * 3 - 1), width: 640, height: 360 })).rejects.toThrow(/bytes/);
    await expect(detector.detect({ data: new Uint8Array(0), width: 0, height: 0 })).rejects.toThrow(/size/);
  });

  test('when it has detected 500 frames, then no tensor is left behind and neither the heap nor the memory outside it has grown', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // Two different photos in turn, both 640×360 (a 640-wide decode, as the worker does): three looks each.
    const frames = await Promise.all([2, 6].map((n) => drawn(640, 360, ['-i', samplePhoto(n as 2 | 6), '-vf', 'scale=640:360:force_original_aspect_ratio=increase,crop=640:360'])));
    for (let i = 0; i < 20; i += 1) await detector.detect(frames[i % 2]!);
    gc();
    const before = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, ...process.memoryUsage() };
    let faces = 0;
    for (let i = 0; i < 500; i += 1) faces += (await detector.detect(frames[i % 2]!)).length;
    gc();
    const after = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, ...process.memoryUsage() };
    expect(faces).toBeGreaterThanOrEqual(500 * 3);
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(16 * 2 ** 20);
    // Off the JS heap: the WASM backend's memory and the frames' buffers (ArrayBuffers), not the whole process's RSS,
    // which in a long jest run moves with what earlier test files left for the allocator.
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(64 * 2 ** 20);
    expect(after.external - before.external).toBeLessThan(64 * 2 ** 20);
  }, 600_000);

  test('when all of the above has run, then nothing was fetched while detecting either', () => {
    expect(fetched).toEqual([]);
  });
});

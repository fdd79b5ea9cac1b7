import { dirname, join, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { packageRoot, packageVersion, type FaceBox, type FaceDetector, type RgbFrame } from '../../worker/faces/face-detector';

type FaceApi = typeof import('@vladmandic/face-api');

const MIN_SCORE = 0.5;
const MAX_RESULTS = 100;

/**
 * The second, independent detector, for tests and benches only: @vladmandic/face-api's SSD MobileNet v1 (another
 * model, another package, trained on other data than BlazeFace), on tfjs's WASM backend, its weights read from
 * node_modules. Slower (≈ 8× BlazeFace) and more thorough on the sample photos, so it judges the worker's detector.
 */
export async function createSecondDetector(): Promise<FaceDetector> {
  const root = packageRoot('@vladmandic/face-api');
  // Its `main` is the tfjs-node build (a native binary): the WASM build sits beside it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const faceapi = require(join(root, 'dist', 'face-api.node-wasm.js')) as FaceApi;
  // The worker's detector may have set the backend up already (tfjs has one engine per process).
  if (tf.engine().backendName !== 'wasm') {
    // A directory path: the WASM binaries are read from disk, never fetched.
    setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}${sep}`);
    await tf.setBackend('wasm');
  }
  await tf.ready();
  if (tf.getBackend() !== 'wasm') throw new Error(`second detector: expected the wasm backend, got ${tf.getBackend()}`);
  const net = faceapi.nets.ssdMobilenetv1;
  await net.loadFromDisk(join(root, 'model'));
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence: MIN_SCORE, maxResults: MAX_RESULTS });
  let queue: Promise<unknown> = Promise.resolve();

  const detectNow = async (frame: RgbFrame): Promise<FaceBox[]> => {
    const values = new Int32Array(frame.data.length);
    values.set(frame.data);
    const image = tf.tensor3d(values, [frame.height, frame.width, 3], 'int32');
    try {
      const found = await faceapi.detectAllFaces(image as never, options);
      return found.map((d) => ({ x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height, score: d.score }));
    } finally {
      image.dispose();
    }
  };

  return {
    name: 'face-api-ssd-mobilenetv1',
    version: packageVersion(root),
    settings: { backend: 'wasm', model: 'ssd_mobilenetv1', minScore: MIN_SCORE, maxResults: MAX_RESULTS },
    detect(frame) {
      const run = queue.then(() => detectNow(frame));
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      await queue;
      net.dispose();
    },
  };
}

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { blazefaceAnchors, detectBlazeface } from './blazeface';
import { cutByTile, DEFAULT_TILE_PLAN, mergeBoxes, planTiles, PRECISION, type LookedBox, type ScoredBox } from './face-tiles';

/** A decoded picture: `width`·`height` pixels of three bytes (R, G, B), row by row. */
export interface RgbFrame { data: Uint8Array; width: number; height: number }
/** A face found in a frame, in that frame's pixels; `score` is the detector's confidence (0–1). */
export interface FaceBox { x: number; y: number; width: number; height: number; score: number }

export interface FaceDetector {
  /** Which detector, e.g. 'blazeface'. */
  readonly name: string;
  /** The detector package's version (from its package.json). */
  readonly version: string;
  /** What it ran with: stored with a clip's face track, so a track says how it was made. */
  readonly settings: Record<string, number | boolean | string>;
  detect(frame: RgbFrame): Promise<FaceBox[]>;
  close(): Promise<void>;
}

export interface FaceDetectorOptions {
  /** Boxes scoring below this are dropped (default 0.3: low, since a missed face is worse than a spare box). */
  minScore?: number;
  /** Also look at square tiles of big frames, so that small faces are found (default true). */
  tile?: boolean;
}

const DEFAULT_MIN_SCORE = 0.3;
const MAX_DETECTED = 50;
const NMS_IOU = 0.1;
const MERGE_IOU = 0.3;
const MERGE_COVER = 0.7;

/** What a detector made with `options` is and runs with (stored with each face track), without loading its model. */
export function describeFaceDetector(options: FaceDetectorOptions = {}): Pick<FaceDetector, 'name' | 'version'> & { settings: FaceDetector['settings'] & { minScore: number; tile: boolean } } {
  const minScore = options.minScore ?? DEFAULT_MIN_SCORE;
  const tile = options.tile ?? true;
  return {
    name: 'blazeface',
    version: packageVersion(packageRoot('@vladmandic/human')),
    settings: {
      backend: 'wasm',
      tfjs: tf.version_core,
      model: 'blazeface',
      modelFrom: '@vladmandic/human',
      minScore,
      maxDetected: MAX_DETECTED,
      nmsIou: NMS_IOU,
      boxScale: 1,
      tile,
      tileModelSide: DEFAULT_TILE_PLAN.modelSide,
      tileMaxScale: DEFAULT_TILE_PLAN.maxScale,
      tileMinOverlap: DEFAULT_TILE_PLAN.minOverlap,
      mergeIou: MERGE_IOU,
      mergeCover: MERGE_COVER,
    },
  };
}

/**
 * BlazeFace (the model @vladmandic/human ships, run by blazeface.ts) on TensorFlow.js's WebAssembly backend.
 * Everything it needs ships in node_modules (the model, the .wasm binaries) and is read from there: nothing is
 * fetched. Frames wider (or taller) than two model sides are also looked at in overlapping square tiles, and the
 * boxes merged.
 */
export async function createFaceDetector(options: FaceDetectorOptions = {}): Promise<FaceDetector> {
  const { name, version, settings } = describeFaceDetector(options);
  const { minScore, tile } = settings;
  const model = await loadBlazeface(join(packageRoot('@vladmandic/human'), 'models'));
  const anchors = blazefaceAnchors();
  const thresholds = { minScore, maxDetected: MAX_DETECTED, nmsIou: NMS_IOU };

  const look = async (image: tf.Tensor3D, offsetX: number, offsetY: number): Promise<ScoredBox[]> =>
    (await detectBlazeface(model, anchors, image, thresholds)).map((b) => ({ ...b, x: b.x + offsetX, y: b.y + offsetY }));

  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  const detectNow = async (frame: RgbFrame): Promise<FaceBox[]> => {
    if (closed) throw new Error('face detector: closed');
    checkFrame(frame);
    const image = toTensor(frame);
    try {
      const boxes: LookedBox[] = (await look(image, 0, 0)).map((b) => ({ ...b, precision: PRECISION.wholeFrame }));
      for (const t of tile ? planTiles(frame.width, frame.height) : []) {
        const part = tileTensor(frame, t);
        try {
          for (const b of await look(part, t.x, t.y)) {
            boxes.push({ ...b, precision: cutByTile(b, t, frame.width, frame.height) ? PRECISION.cutByTile : PRECISION.wholeInTile });
          }
        } finally {
          part.dispose();
        }
      }
      return mergeBoxes(boxes, MERGE_IOU, MERGE_COVER).map((b) => clampBox(b, frame));
    } finally {
      image.dispose();
    }
  };

  return {
    name,
    version,
    settings,
    detect(frame) {
      const run = queue.then(() => detectNow(frame));
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      closed = true;
      await queue;
      // The model stays loaded for the process: every detector shares it (loadBlazeface).
    },
  };
}

function checkFrame(frame: RgbFrame): void {
  const { width, height, data } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`face detector: bad frame size ${width}×${height}`);
  if (data.length !== width * height * 3) throw new Error(`face detector: a ${width}×${height} RGB frame has ${width * height * 3} bytes, not ${data.length}`);
}

/**
 * The frame as an int32 tensor (what human expects of a decoded image). The bytes are copied into an array made
 * here: a Buffer from another realm (a child process's stdout under jest) fails tfjs's typed-array checks.
 */
function toTensor(frame: RgbFrame): tf.Tensor3D {
  const values = new Int32Array(frame.data.length);
  values.set(frame.data);
  return tf.tensor3d(values, [frame.height, frame.width, 3], 'int32');
}

/**
 * One square tile of the frame as its own tensor, its rows copied from the frame's bytes: the same values as
 * slicing the frame's tensor, without tfjs's slice (about 18 ms a 480 px tile on the WebAssembly backend here,
 * a quarter of a tiled frame's time; this copy takes well under 1 ms).
 */
export function tileTensor(frame: RgbFrame, tile: { x: number; y: number; size: number }): tf.Tensor3D {
  if (tile.x < 0 || tile.y < 0 || tile.x + tile.size > frame.width || tile.y + tile.size > frame.height) throw new Error(`face detector: tile ${JSON.stringify(tile)} is outside the ${frame.width}×${frame.height} frame`);
  const row = tile.size * 3;
  const values = new Int32Array(row * tile.size);
  for (let y = 0; y < tile.size; y += 1) {
    const from = ((tile.y + y) * frame.width + tile.x) * 3;
    values.set(frame.data.subarray(from, from + row), y * row);
  }
  return tf.tensor3d(values, [tile.size, tile.size, 3], 'int32');
}

function clampBox(box: ScoredBox, frame: RgbFrame): FaceBox {
  const x = Math.max(0, box.x);
  const y = Math.max(0, box.y);
  return {
    x,
    y,
    width: Math.min(frame.width, box.x + box.width) - x,
    height: Math.min(frame.height, box.y + box.height) - y,
    score: box.score,
  };
}

/** A package's folder (its package.json may not be exported, its main file is). */
export function packageRoot(name: string): string {
  let dir = dirname(require.resolve(name));
  while (!dir.endsWith(join('node_modules', ...name.split('/')))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no folder for package ${name}`);
    dir = up;
  }
  return dir;
}

export function packageVersion(root: string): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

// One model for the process, loaded on the WebAssembly backend the first time a detector is made.
let blazeface: Promise<GraphModel> | null = null;

function loadBlazeface(modelsDir: string): Promise<GraphModel> {
  blazeface ??= (async () => {
    // A directory path, not a URL: the WASM backend then reads its binaries from disk (emscripten in Node).
    setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}${sep}`);
    if (!(await tf.setBackend('wasm'))) throw new Error('face detector: the WebAssembly backend did not start');
    await tf.ready();
    registerModelLoader(modelsDir);
    const model = await loadGraphModel(`file://${join(modelsDir, 'blazeface.json')}`);
    const side = model.inputs[0]?.shape?.[1];
    if (side !== 256) throw new Error(`face detector: the BlazeFace model in ${modelsDir} takes ${String(side)} px, not 256`);
    return model;
  })().catch((error: unknown) => {
    blazeface = null;
    throw error;
  });
  return blazeface;
}

// tfjs keeps one list of load routers per process (per module registry): each models folder is added once.
const routedDirs = new Set<string>();

/**
 * Lets tfjs load `file://` models from `dir` (Node 20's fetch cannot read file:// URLs, and tfjs's own file
 * loader comes with tfjs-node): model.json and its weight files are read from disk.
 */
function registerModelLoader(dir: string): void {
  const root = resolve(dir) + sep;
  if (routedDirs.has(root)) return;
  routedDirs.add(root);
  // A router answers null for URLs it does not handle (tfjs's own type says otherwise).
  const router = (url: string | string[]): tf.io.IOHandler | null => {
    if (typeof url !== 'string' || !url.startsWith('file://')) return null;
    const file = resolve(url.slice('file://'.length));
    if (!file.startsWith(root)) return null;
    return {
      load: async () => {
        const json = JSON.parse(await readFile(file, 'utf8')) as tf.io.ModelJSON;
        return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
          const specs = manifest.flatMap((group) => group.weights);
          const parts = await Promise.all(manifest.flatMap((group) => group.paths.map((p) => readFile(resolve(dirname(file), p)))));
          const bytes = Buffer.concat(parts);
          return [specs, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)];
        });
      },
    };
  };
  tf.io.registerLoadRouter(router as Parameters<typeof tf.io.registerLoadRouter>[0]);
}

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Config, Human } from '@vladmandic/human';
import { cutByTile, DEFAULT_TILE_PLAN, mergeBoxes, planTiles, PRECISION, type LookedBox, type ScoredBox } from './face-tiles';

/** A decoded picture: `width`·`height` pixels of three bytes (R, G, B), row by row. */
export interface RgbFrame { data: Uint8Array; width: number; height: number }
/** A face found in a frame, in that frame's pixels; `score` is the detector's confidence (0–1). */
export interface FaceBox { x: number; y: number; width: number; height: number; score: number }

export interface FaceDetector {
  /** Which detector, e.g. 'human-blazeface'. */
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
const MERGE_IOU = 0.3;
const MERGE_COVER = 0.7;

/**
 * BlazeFace through @vladmandic/human on TensorFlow.js's WebAssembly backend. Everything it needs ships in
 * node_modules (the model, the .wasm binaries) and is read from there: nothing is fetched. Frames wider (or
 * taller) than two model sides are also looked at in overlapping square tiles, and the boxes merged.
 */
export async function createFaceDetector(options: FaceDetectorOptions = {}): Promise<FaceDetector> {
  const minScore = options.minScore ?? DEFAULT_MIN_SCORE;
  const tile = options.tile ?? true;
  const humanRoot = packageRoot('@vladmandic/human');
  const modelsDir = join(humanRoot, 'models');
  registerModelLoader(modelsDir);
  const config: Partial<Config> = {
    backend: 'wasm',
    // A directory path, not a URL: tfjs's WASM backend then reads the binaries from disk (emscripten in Node).
    wasmPath: `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}${sep}`,
    modelBasePath: `file://${modelsDir}/`,
    cacheModels: false,
    debug: false,
    async: true,
    warmup: 'none',
    // human reuses the last result when frames look alike, and detects again only every skipFrames/skipTime:
    // every frame is looked at afresh here.
    cacheSensitivity: 0,
    skipAllowed: false,
    filter: { enabled: false } as Config['filter'],
    face: {
      enabled: true,
      // scale 1: the face itself (human's 1.4 is a crop for its mesh model); margins are the masking's business.
      detector: { enabled: true, modelPath: 'blazeface.json', maxDetected: 50, skipFrames: 0, skipTime: 0, minConfidence: minScore, iouThreshold: 0.1, scale: 1, rotation: false, mask: false, return: false },
      mesh: { enabled: false },
      iris: { enabled: false },
      emotion: { enabled: false },
      description: { enabled: false },
      antispoof: { enabled: false },
      liveness: { enabled: false },
      attention: { enabled: false },
      gear: { enabled: false },
    } as Config['face'],
    body: { enabled: false } as Config['body'],
    hand: { enabled: false } as Config['hand'],
    object: { enabled: false } as Config['object'],
    gesture: { enabled: false },
    segmentation: { enabled: false } as Config['segmentation'],
  };
  // The package's `exports` send Node to its tfjs-node build (a native binary an install script downloads):
  // the WASM build sits beside it and is loaded by path.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Human: HumanClass } = require(join(humanRoot, 'dist', 'human.node-wasm.js')) as { Human: new (config: Partial<Config>) => Human };
  const human = new HumanClass(config);
  await human.load();
  if (human.tf.getBackend() !== 'wasm') throw new Error(`face detector: expected the wasm backend, got ${String(human.tf.getBackend())}`);
  // human logs a failed model load and goes on: a model without weights would find nothing, silently.
  const loaded = human.models.list().find((m) => m.name === 'blazeface');
  if (!loaded || !(loaded.size > 0)) throw new Error(`face detector: the BlazeFace model did not load from ${modelsDir}`);

  const version = packageVersion(humanRoot);
  const settings = {
    backend: 'wasm',
    tfjs: tf.version_core,
    model: 'blazeface',
    minScore,
    maxDetected: 50,
    nmsIou: 0.1,
    boxScale: 1,
    skipFrames: 0,
    skipTime: 0,
    cacheSensitivity: 0,
    tile,
    tileModelSide: DEFAULT_TILE_PLAN.modelSide,
    tileMaxScale: DEFAULT_TILE_PLAN.maxScale,
    tileMinOverlap: DEFAULT_TILE_PLAN.minOverlap,
    mergeIou: MERGE_IOU,
    mergeCover: MERGE_COVER,
  };

  const look = async (image: tf.Tensor3D, offsetX: number, offsetY: number): Promise<ScoredBox[]> => {
    const result = await human.detect(image as never);
    // human reports a failed detection in the result rather than throwing: a silent "no face" is the worst answer.
    if (result.error) throw new Error(`face detector: ${result.error}`);
    return result.face.map((face) => ({ x: face.box[0] + offsetX, y: face.box[1] + offsetY, width: face.box[2], height: face.box[3], score: face.boxScore }));
  };

  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  const detectNow = async (frame: RgbFrame): Promise<FaceBox[]> => {
    if (closed) throw new Error('face detector: closed');
    checkFrame(frame);
    const image = toTensor(frame);
    try {
      const boxes: LookedBox[] = (await look(image, 0, 0)).map((b) => ({ ...b, precision: PRECISION.wholeFrame }));
      for (const t of tile ? planTiles(frame.width, frame.height) : []) {
        const part = tf.slice(image, [t.y, t.x, 0], [t.size, t.size, 3]);
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
    name: 'human-blazeface',
    version,
    settings,
    detect(frame) {
      const run = queue.then(() => inTurn(() => detectNow(frame)));
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      closed = true;
      await queue;
      // The model stays loaded: human keeps it in its module, shared by every Human in the process (disposing it
      // here would break another detector, and a new one would get the disposed model back).
    },
  };
}

// human keeps its model and its last boxes in module variables, shared by every Human in the process: one
// detection at a time across all detectors.
let turn: Promise<unknown> = Promise.resolve();
function inTurn<T>(work: () => Promise<T>): Promise<T> {
  const run = turn.then(work);
  turn = run.catch(() => undefined);
  return run;
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

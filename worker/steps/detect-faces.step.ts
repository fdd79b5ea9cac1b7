import type { RunLimits } from '../ffmpeg/ffmpeg';
import type { FaceDetector } from '../faces/face-detector';
import type { Detection } from '../../shared/protection/mask-plan';
import { readDetectionFrames, type Size } from './protect.step';

/**
 * Finds the faces in the clean master, frame by frame at DETECT_FPS: fast enough that a face turning or moving
 * between two detections is still covered by the interpolated, grown box (mask-plan.ts). The frames go to the
 * detector at up to ANALYSIS_MAX; the detector tiles larger frames so that small faces are found, on every
 * TILE_EVERY-th analysed frame (small faces are far away and move little across the picture: the track
 * interpolates between their detections, TILE_EVERY / DETECT_FPS s apart, well inside its largest gap).
 */

export const DETECT_FPS = 5;
export const TILE_EVERY = 2;
/** The analysed picture: at most 854×480 either way (BlazeFace on tiles of it: about 0.2 s a frame here). */
export const ANALYSIS_MAX = { long: 854, short: 480 };

export interface DetectionRun {
  detections: Detection[];
  framesAnalysed: number;
  framesWithFaces: number;
  /** Every how many frames of the master one is analysed, and so the detection rate. */
  every: number;
  /** Every how many analysed frames the detector also looks at the tiles. */
  tileEvery: number;
  detectFps: number;
  size: Size;
}

/** The analysed size: the master's, fitted to ANALYSIS_MAX, even numbers. */
export function analysisSize(master: Size): Size {
  const scale = Math.min(1, ANALYSIS_MAX.long / Math.max(master.width, master.height), ANALYSIS_MAX.short / Math.min(master.width, master.height));
  const even = (n: number) => Math.max(2, Math.round((n * scale) / 2) * 2);
  return { width: even(master.width), height: even(master.height) };
}

/** Every n-th frame, so that detections fall on frames of the master at about DETECT_FPS (all frames below it). */
export function detectionStride(fps: number, rate = DETECT_FPS): number {
  return Math.max(1, Math.round(fps / rate));
}

/** Where detection looks: every `every`-th frame of the master, at `size`. */
export function detectionPlan(master: Size & { fps: number }): { every: number; size: Size } {
  return { every: detectionStride(master.fps), size: analysisSize(master) };
}

/** Reads frames (each with its time in the master) into `onFrame`, and returns how many there were. */
export type FrameSource = (onFrame: (frame: Buffer, t: number) => Promise<void>) => Promise<number>;

/** The faces in the frames `read` gives, which are those of `plan`. */
export async function findFaces(detector: FaceDetector, master: { fps: number }, plan: { every: number; size: Size }, read: FrameSource): Promise<DetectionRun> {
  const { every, size } = plan;
  const detections: Detection[] = [];
  let framesWithFaces = 0;
  let analysed = 0;
  const framesAnalysed = await read(async (frame, t) => {
    const tiles = analysed % TILE_EVERY === 0;
    analysed += 1;
    const faces = await detector.detect({ data: frame, width: size.width, height: size.height }, { tiles });
    if (faces.length > 0) framesWithFaces += 1;
    detections.push({
      t,
      boxes: faces.map((face) => ({ x: face.x / size.width, y: face.y / size.height, w: face.width / size.width, h: face.height / size.height })),
    });
  });
  return { detections, framesAnalysed, framesWithFaces, every, tileEvery: TILE_EVERY, detectFps: master.fps / every, size };
}

/** The faces in a master already made (a moderator switched protection on): a decode of its own. */
export async function detectFaces(
  detector: FaceDetector,
  masterPath: string,
  master: Size & { fps: number },
  limits: RunLimits,
  signal?: AbortSignal,
): Promise<DetectionRun> {
  const plan = detectionPlan(master);
  return findFaces(detector, master, plan, (onFrame) => readDetectionFrames(masterPath, { fps: master.fps, ...plan }, limits, onFrame, signal));
}

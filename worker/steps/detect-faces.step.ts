import type { RunLimits } from '../ffmpeg/ffmpeg';
import type { FaceDetector } from '../faces/face-detector';
import type { Detection } from '../../shared/protection/mask-plan';
import { readDetectionFrames, type Size } from './protect.step';

/**
 * Finds the faces in the clean master, frame by frame at DETECT_FPS: fast enough that a face turning or moving
 * between two detections is still covered by the interpolated, grown box (mask-plan.ts). The frames go to the
 * detector at up to ANALYSIS_MAX; the detector tiles larger frames so that small faces are found.
 */

export const DETECT_FPS = 5;
/** The analysed picture: at most 854×480 either way (BlazeFace on tiles of it: about 0.2 s a frame here). */
export const ANALYSIS_MAX = { long: 854, short: 480 };

export interface DetectionRun {
  detections: Detection[];
  framesAnalysed: number;
  framesWithFaces: number;
  /** Every how many frames of the master one is analysed, and so the detection rate. */
  every: number;
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

export async function detectFaces(
  detector: FaceDetector & { parallel?: number },
  masterPath: string,
  master: Size & { fps: number },
  limits: RunLimits,
  signal?: AbortSignal,
): Promise<DetectionRun> {
  const size = analysisSize(master);
  const every = detectionStride(master.fps);
  const detections: Detection[] = [];
  let framesWithFaces = 0;
  // Up to `parallel` frames are looked at at once (a detector pool: detector-pool.ts); the decode waits for a free one.
  const parallel = Math.max(1, detector.parallel ?? 1);
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  const framesAnalysed = await readDetectionFrames(masterPath, { fps: master.fps, every, size }, limits, async (frame, t) => {
    if (failure) throw failure;
    const looked = detector.detect({ data: frame, width: size.width, height: size.height }).then(
      (faces) => {
        if (faces.length > 0) framesWithFaces += 1;
        detections.push({
          t,
          boxes: faces.map((face) => ({ x: face.x / size.width, y: face.y / size.height, w: face.width / size.width, h: face.height / size.height })),
        });
      },
      (error: unknown) => {
        failure ??= error;
      },
    );
    inFlight.add(looked);
    void looked.then(() => inFlight.delete(looked));
    while (inFlight.size >= parallel) await Promise.race(inFlight);
    if (failure) throw failure;
  }, signal);
  await Promise.all(inFlight);
  if (failure) throw failure;
  // Frames finish out of order when several are looked at at once.
  detections.sort((a, b) => a.t - b.t);
  return { detections, framesAnalysed, framesWithFaces, every, detectFps: master.fps / every, size };
}

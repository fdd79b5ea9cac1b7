import { parentPort, workerData } from 'node:worker_threads';
import { createFaceDetector, type FaceDetectorOptions, type RgbFrame } from './face-detector';

/**
 * One thread of the detector pool (detector-pool.ts): a detector of its own (its own WebAssembly instance of the
 * model), answering one frame at a time. Errors are sent back as messages; the thread itself never throws.
 */
export type ThreadRequest = { id: number; frame: RgbFrame };
export type ThreadAnswer = { id: number; faces: Awaited<ReturnType<Awaited<ReturnType<typeof createFaceDetector>>['detect']>> } | { id: number; error: string };

const port = parentPort;
if (port) {
  const ready = createFaceDetector(workerData as FaceDetectorOptions);
  // A failed start is answered to each request (the pool then fails the detection with the reason).
  ready.catch(() => undefined);
  port.on('message', (request: ThreadRequest) => {
    ready
      .then((detector) => detector.detect(request.frame))
      .then((faces) => port.postMessage({ id: request.id, faces } satisfies ThreadAnswer))
      .catch((error: unknown) => port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) } satisfies ThreadAnswer));
  });
}

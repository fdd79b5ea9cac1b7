import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createFaceDetector, describeFaceDetector, type FaceBox, type FaceDetector, type FaceDetectorOptions, type RgbFrame } from './face-detector';
import type { ThreadAnswer } from './detector-thread';

/**
 * The face detector on several cores. The WebAssembly backend runs a look on one core (its threaded build is off
 * in Node), so frames are handed to `threads` worker threads, each with its own detector: a frame's boxes are
 * exactly those of the detector in this thread (each frame is looked at whole, by one detector); only more frames
 * are looked at at once. `parallel` says how many frames the caller may have in flight. With one thread, the
 * detector runs in this thread.
 */
export interface DetectorPool extends FaceDetector {
  readonly parallel: number;
}

export async function createDetectorPool(threads: number, options: FaceDetectorOptions = {}): Promise<DetectorPool> {
  if (threads <= 1) {
    const local = await createFaceDetector(options);
    return { ...describe(local), parallel: 1, detect: (frame) => local.detect(frame), close: () => local.close() };
  }
  // The model is loaded by each thread only, not here as well (about 60 MB a copy).
  const description = describeFaceDetector(options);

  const workers = Array.from({ length: threads }, () => startThread(options));
  const waiting = new Map<number, { resolve: (faces: FaceBox[]) => void; reject: (error: Error) => void; thread: number }>();
  const busy = workers.map(() => 0);
  let nextId = 0;
  let closed = false;
  const failAll = (thread: number, error: Error) => {
    for (const [id, entry] of waiting) {
      if (entry.thread !== thread) continue;
      waiting.delete(id);
      entry.reject(error);
    }
  };
  workers.forEach((worker, thread) => {
    worker.on('message', (answer: ThreadAnswer) => {
      const entry = waiting.get(answer.id);
      if (!entry) return;
      waiting.delete(answer.id);
      busy[thread]! -= 1;
      if ('error' in answer) entry.reject(new Error(answer.error));
      else entry.resolve(answer.faces);
    });
    worker.on('error', (error) => failAll(thread, new Error(`face detector thread: ${error.message}`)));
    worker.on('exit', (code) => {
      if (!closed) failAll(thread, new Error(`face detector thread stopped (exit code ${code})`));
    });
  });

  return {
    ...description,
    parallel: threads,
    detect(frame: RgbFrame): Promise<FaceBox[]> {
      if (closed) return Promise.reject(new Error('face detector: closed'));
      // The least busy thread; the frame's bytes are copied into a buffer of its own and moved to it.
      const thread = busy.indexOf(Math.min(...busy));
      const data = new Uint8Array(frame.data.length);
      data.set(frame.data);
      const id = nextId++;
      busy[thread]! += 1;
      return new Promise<FaceBox[]>((resolve, reject) => {
        waiting.set(id, { resolve, reject, thread });
        workers[thread]!.postMessage({ id, frame: { data, width: frame.width, height: frame.height } }, [data.buffer]);
      });
    },
    async close() {
      closed = true;
      await Promise.all(workers.map((worker) => worker.terminate()));
      for (const [id, entry] of waiting) {
        waiting.delete(id);
        entry.reject(new Error('face detector: closed'));
      }
    },
  };
}

function describe(detector: FaceDetector): Pick<FaceDetector, 'name' | 'version' | 'settings'> {
  return { name: detector.name, version: detector.version, settings: detector.settings };
}

/**
 * A thread running detector-thread. Built, it is a .js file beside this one; from the TypeScript sources (the
 * tests), the thread compiles each .ts module it loads with TypeScript's own transpiler (a development
 * dependency), the way ts-jest does in the main thread.
 */
function startThread(options: FaceDetectorOptions): Worker {
  const ext = extname(__filename);
  const entry = join(__dirname, `detector-thread${ext}`);
  if (ext === '.js') return new Worker(entry, { workerData: options });
  const bootstrap = `
    const ts = require('typescript');
    const { readFileSync } = require('node:fs');
    require.extensions['.ts'] = (module, file) => module._compile(ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText, file);
    require(${JSON.stringify(entry)});
  `;
  return new Worker(bootstrap, { eval: true, workerData: options });
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { FaceBox, FaceDetector } from '../../worker/faces/face-detector';

const run = promisify(execFile);

export interface DecodedFrames {
  width: number;
  height: number;
  frames: Buffer[];
}

/** Every frame of a video (or one every `every` seconds), upright as players show it, as RGB24 at `width` wide. */
export async function decodeFrames(path: string, width: number, options: { fps?: number } = {}): Promise<DecodedFrames> {
  const probe = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height:stream_side_data=rotation', '-of', 'json', path]);
  const stream = (JSON.parse(probe.stdout) as { streams: Array<{ width: number; height: number; side_data_list?: Array<{ rotation?: number }> }> }).streams[0]!;
  const turned = Math.abs(stream.side_data_list?.[0]?.rotation ?? 0) % 180 === 90;
  const [w, h] = turned ? [stream.height, stream.width] : [stream.width, stream.height];
  const height = Math.max(2, Math.round((width * h) / w / 2) * 2);
  const filters = [...(options.fps ? [`fps=${options.fps}`] : []), `scale=${width}:${height}`];
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', path, '-map', '0:v:0', '-vf', filters.join(','), ...(options.fps ? [] : ['-fps_mode', 'passthrough']), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { encoding: 'buffer', maxBuffer: 1 << 30 });
  const size = width * height * 3;
  const frames: Buffer[] = [];
  for (let at = 0; at + size <= stdout.length; at += size) frames.push(stdout.subarray(at, at + size));
  return { width, height, frames };
}

/** Share of a box's pixels that are black (a solid mask): every channel at most `dark`. Inset by `inset` pixels for scaling edges. */
export function blackShare(frame: Buffer, width: number, height: number, box: Pick<FaceBox, 'x' | 'y' | 'width' | 'height'>, inset = 2, dark = 40): number {
  const x1 = Math.max(0, Math.floor(box.x) + inset);
  const y1 = Math.max(0, Math.floor(box.y) + inset);
  const x2 = Math.min(width, Math.ceil(box.x + box.width) - inset);
  const y2 = Math.min(height, Math.ceil(box.y + box.height) - inset);
  let black = 0;
  let all = 0;
  for (let y = y1; y < y2; y++) {
    for (let x = x1; x < x2; x++) {
      const i = (y * width + x) * 3;
      all += 1;
      if (frame[i]! <= dark && frame[i + 1]! <= dark && frame[i + 2]! <= dark) black += 1;
    }
  }
  return all === 0 ? 1 : black / all;
}

export interface CoverReport {
  faces: number;
  covered: number;
  misses: Array<{ frame: number; box: FaceBox; black: number }>;
}

/**
 * Every face the detector finds on the unprotected frames, looked for in the protected frame of the same index:
 * covered when at least `minBlack` of its pixels are the mask's black.
 */
export async function coverReport(detector: FaceDetector, clean: DecodedFrames, masked: DecodedFrames, minBlack = 0.95): Promise<CoverReport> {
  const report: CoverReport = { faces: 0, covered: 0, misses: [] };
  const count = Math.min(clean.frames.length, masked.frames.length);
  for (let i = 0; i < count; i++) {
    const faces = await detector.detect({ data: clean.frames[i]!, width: clean.width, height: clean.height });
    for (const box of faces) {
      report.faces += 1;
      const black = blackShare(masked.frames[i]!, masked.width, masked.height, box);
      if (black >= minBlack) report.covered += 1;
      else report.misses.push({ frame: i, box, black });
    }
  }
  return report;
}

/** Faces a detector finds in a video, sampled at `fps` (2 by default). */
export async function facesIn(detector: FaceDetector, path: string, width = 640, fps = 2): Promise<Array<{ frame: number; boxes: FaceBox[] }>> {
  const decoded = await decodeFrames(path, width, { fps });
  const found: Array<{ frame: number; boxes: FaceBox[] }> = [];
  for (const [i, frame] of decoded.frames.entries()) {
    const boxes = await detector.detect({ data: frame, width: decoded.width, height: decoded.height });
    if (boxes.length > 0) found.push({ frame: i, boxes });
  }
  return found;
}

/**
 * The dominant frequency of a clip's sound (mono mix), from zero crossings over `seconds` after `from`: the tone
 * fixtures are pure sines, so a pitch shift by a factor f moves it from F to f·F.
 */
export async function toneFrequency(path: string, from = 0.5, seconds = 2): Promise<number> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-ss', String(from), '-t', String(seconds), '-i', path, '-map', '0:a:0', '-ac', '1', '-ar', '48000', '-f', 's16le', '-'], { encoding: 'buffer', maxBuffer: 1 << 26 });
  const samples = new Int16Array(stdout.buffer, stdout.byteOffset, Math.floor(stdout.length / 2));
  let crossings = 0;
  let first = -1;
  let last = -1;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i - 1]! < 0 && samples[i]! >= 0) {
      crossings += 1;
      if (first < 0) first = i;
      last = i;
    }
  }
  return crossings > 1 ? ((crossings - 1) * 48000) / (last - first) : 0;
}

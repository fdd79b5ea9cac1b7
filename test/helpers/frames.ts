import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A grayscale picture, one byte a pixel, row by row. */
export interface Gray {
  width: number;
  height: number;
  data: Buffer;
}

/**
 * The first frame (or the first from `at` seconds) of a video (or a JPEG) as ffmpeg decodes it: turned by its display matrix as a player
 * turns it (`autorotate`, ffmpeg's default), or as stored; scaled to `size` when given.
 */
export async function grayFrame(path: string, options: { autorotate: boolean; size?: { width: number; height: number }; stream?: number; at?: number }): Promise<Gray> {
  const probe = options.size ?? (await frameSize(path, options.autorotate));
  const { stdout } = await run(
    'ffmpeg',
    [
      '-v', 'error', ...(options.autorotate ? [] : ['-noautorotate']), ...(options.at ? ['-ss', String(options.at)] : []), '-i', path, '-map', options.stream === undefined ? '0:v:0' : `0:${options.stream}`,
      '-frames:v', '1', '-vf', `scale=${probe.width}:${probe.height}:flags=area`, '-f', 'rawvideo', '-pix_fmt', 'gray', '-',
    ],
    { encoding: 'buffer', maxBuffer: 1 << 26 },
  );
  if (stdout.length !== probe.width * probe.height) throw new Error(`no frame decoded from ${path}`);
  return { ...probe, data: stdout };
}

/** The spread of a picture's gray levels (standard deviation): near 0 for a blank frame. */
export function spread(picture: Gray): number {
  const n = picture.data.length;
  const mean = picture.data.reduce((s, v) => s + v, 0) / n;
  return Math.sqrt(picture.data.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
}

async function frameSize(path: string, autorotate: boolean): Promise<{ width: number; height: number }> {
  const { stderr } = await run('ffmpeg', ['-v', 'info', '-nostats', ...(autorotate ? [] : ['-noautorotate']), '-i', path, '-frames:v', '1', '-vf', 'showinfo', '-f', 'null', '-']);
  const match = /\bs:(\d+)x(\d+)/.exec(stderr);
  if (!match) throw new Error(`no frame size for ${path}`);
  return { width: Number(match[1]), height: Number(match[2]) };
}

/**
 * What a display matrix means, applied by hand (libavutil/display.h): the stored pixel (p, q) is shown at
 * (a·p + c·q, b·p + d·q), moved back into view. Only the signs of a, b, c, d count (quarter turns and mirrors).
 */
export function applyDisplayMatrix(picture: Gray, matrix: readonly number[]): Gray {
  const [a, b, , c, d] = matrix.map(Math.sign) as [number, number, number, number, number];
  const swap = a === 0;
  const width = swap ? picture.height : picture.width;
  const height = swap ? picture.width : picture.height;
  const data = Buffer.alloc(width * height);
  const x0 = -Math.min(0, a * (picture.width - 1)) - Math.min(0, c * (picture.height - 1));
  const y0 = -Math.min(0, b * (picture.width - 1)) - Math.min(0, d * (picture.height - 1));
  for (let q = 0; q < picture.height; q += 1) {
    for (let p = 0; p < picture.width; p += 1) {
      data[(b * p + d * q + y0) * width + (a * p + c * q + x0)] = picture.data[q * picture.width + p]!;
    }
  }
  return { width, height, data };
}

/** The eight ways a picture can be turned and mirrored, as display matrices (signs only). */
export const EIGHT_ORIENTATIONS: ReadonlyArray<readonly number[]> = [
  [1, 0, 0, 0, 1], [-1, 0, 0, 0, 1], [1, 0, 0, 0, -1], [-1, 0, 0, 0, -1],
  [0, 1, 0, 1, 0], [0, -1, 0, 1, 0], [0, 1, 0, -1, 0], [0, -1, 0, -1, 0],
];

/** Peak signal-to-noise ratio in dB of two pictures of the same size (Infinity when identical). */
export function psnr(x: Gray, y: Gray): number {
  if (x.width !== y.width || x.height !== y.height) throw new Error(`sizes differ: ${x.width}×${x.height} and ${y.width}×${y.height}`);
  let sum = 0;
  for (let i = 0; i < x.data.length; i += 1) sum += (x.data[i]! - y.data[i]!) ** 2;
  const mse = sum / x.data.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** Pearson correlation of two pictures of the same size: 1 for the same picture whatever its brightness and contrast. */
export function correlation(x: Gray, y: Gray): number {
  const n = x.data.length;
  const mean = (g: Gray) => g.data.reduce((s, v) => s + v, 0) / n;
  const [mx, my] = [mean(x), mean(y)];
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i += 1) {
    const [dx, dy] = [x.data[i]! - mx, y.data[i]! - my];
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy);
}

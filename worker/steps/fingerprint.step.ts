import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFfmpeg, type FfmpegCommand, type RunLimits } from '../ffmpeg/ffmpeg';
import { inputHardeningArgs } from './probe.step';
import { dctHash, HASH_SIDE, PICTURE_FPS, soundFromRaw, type MediaFingerprint } from '../../shared/provenance/fingerprint';

/**
 * The content fingerprint of one file (shared/provenance/fingerprint.ts): one decode gives small grey frames
 * of the whole picture and of its central window, and chromaprint's values of the sound, as files in the job's folder.
 *
 * Exported API
 *  - `FINGERPRINT_FILES` — the names of the files written in the job's folder.
 *  - `buildFingerprintArgs(inputPath, outDir, { hasVideo, hasAudio }): FfmpegCommand` — pure; unit-tested.
 *  - `fingerprintFile(inputPath, info: { hasVideo; hasAudio; durationSeconds }, outDir, limits, signal?): Promise<MediaFingerprint>`
 *    — `info` from the probe (MediaInfo: `video !== null`, `audio !== null`, `durationSeconds`); `outDir` is the job's own folder.
 */

export const FINGERPRINT_FILES = { full: 'fingerprint-full.gray', centre: 'fingerprint-centre.gray', sound: 'fingerprint-sound.raw' } as const;

export interface FingerprintInput {
  hasVideo: boolean;
  hasAudio: boolean;
}

/** A few grey frames a second, made upright and constant-rate by the fps filter: the hash needs shapes, not colour. */
function pictureGraph(): string {
  const side = `${HASH_SIDE}:${HASH_SIDE}:flags=area`;
  return [
    `[0:v:0]fps=${PICTURE_FPS},format=gray,split=2[fpfull][fpcentre]`,
    // The whole frame, squeezed to 32×32 (area: every pixel counts, so a re-encode's noise averages out).
    `[fpfull]scale=${side}[full]`,
    // The other orientation's central window: a 9:16 re-crop of a landscape clip, or the 16:9 picture inside a vertical one.
    `[fpcentre]crop=w='if(gt(iw\\,ih)\\,ih*9/16\\,iw)':h='if(gt(iw\\,ih)\\,ih\\,iw*9/16)',scale=${side}[centre]`,
  ].join(';');
}

/** Raw frames, one out for each frame the fps filter made. */
function rawFrameArgs(label: string): string[] {
  return ['-map', label, '-fps_mode', 'passthrough', '-c:v', 'rawvideo', '-f', 'rawvideo'];
}

/** The first sound track through ffmpeg's chromaprint muxer: its raw 32-bit values (no base64, no compression). */
function soundArgs(): string[] {
  return ['-map', '0:a:0', '-f', 'chromaprint', '-fp_format', 'raw'];
}

export function buildFingerprintArgs(inputPath: string, outDir: string, input: FingerprintInput): FfmpegCommand {
  const outputs: FfmpegCommand['outputs'] = [];
  if (input.hasVideo) {
    outputs.push({ args: rawFrameArgs('[full]'), path: join(outDir, FINGERPRINT_FILES.full) });
    outputs.push({ args: rawFrameArgs('[centre]'), path: join(outDir, FINGERPRINT_FILES.centre) });
  }
  if (input.hasAudio) outputs.push({ args: soundArgs(), path: join(outDir, FINGERPRINT_FILES.sound) });
  return {
    globalArgs: ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-sn', '-dn', ...(input.hasVideo ? ['-filter_complex', pictureGraph()] : [])],
    inputs: [{ args: inputHardeningArgs(), path: inputPath }],
    outputs,
  };
}

function hashesOf(frames: Buffer): string[] {
  const bytes = HASH_SIDE * HASH_SIDE;
  const hashes: string[] = [];
  for (let at = 0; at + bytes <= frames.length; at += bytes) hashes.push(dctHash(frames.subarray(at, at + bytes)));
  return hashes;
}

export async function fingerprintFile(
  inputPath: string,
  info: FingerprintInput & { durationSeconds: number | null },
  outDir: string,
  limits: RunLimits,
  signal?: AbortSignal,
): Promise<MediaFingerprint> {
  if (!info.hasVideo && !info.hasAudio) return { version: 1, durationSeconds: info.durationSeconds ?? 0, picture: null, sound: null };
  await runFfmpeg(buildFingerprintArgs(inputPath, outDir, info), limits, { signal });
  let picture: MediaFingerprint['picture'] = null;
  if (info.hasVideo) {
    const [full, centre] = await Promise.all([readFile(join(outDir, FINGERPRINT_FILES.full)), readFile(join(outDir, FINGERPRINT_FILES.centre))]);
    picture = { fps: PICTURE_FPS, hashes: hashesOf(full), centre: hashesOf(centre) };
  }
  let sound: MediaFingerprint['sound'] = null;
  if (info.hasAudio) {
    const raw = await readFile(join(outDir, FINGERPRINT_FILES.sound));
    const values = new Uint32Array(Math.floor(raw.length / 4));
    for (let i = 0; i < values.length; i += 1) values[i] = raw.readUInt32LE(i * 4);
    sound = soundFromRaw(values);
  }
  const durationSeconds = info.durationSeconds ?? (picture ? picture.hashes.length / PICTURE_FPS : 0);
  return { version: 1, durationSeconds, picture, sound };
}

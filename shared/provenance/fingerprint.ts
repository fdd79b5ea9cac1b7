/**
 * Content fingerprints of a clip: what still recognises a copy after a platform stripped its signature and
 * encoded it again (issue 17). Pure: the frames and the sound values come from worker/steps/fingerprint.step.ts.
 *
 * Exported API
 *  - `MediaFingerprint`: version 1; the picture as 64-bit DCT hashes (16 hex digits) at `picture.fps`, of the whole
 *    frame (`hashes`) and of the other orientation's central window (`centre`: a 9:16 column of a landscape frame,
 *    a 16:9 band of a portrait or square one); the sound as chromaprint's raw 32-bit values at `sound.rate` a second,
 *    or null when the file has no sound or only silence.
 *  - `HASH_SIDE` (32), `dctHash(gray: Uint8Array | Buffer, side = HASH_SIDE): string` — the perceptual hash of one
 *    `side`×`side` grey frame: the 8×8 lowest frequencies of its 2-D DCT-II, bit = coefficient > their median.
 *    A flat frame (grey levels spread under FLAT_BELOW) hashes to FLAT_HASH (all zeros), which is never matched.
 *  - `lowDct(gray, side?)` — those 64 coefficients; `PICTURE_FPS` (4), `SOUND_RATE` (≈ 8.07 values a second).
 *  - `hashHalves(hex): [hi, lo]`, `hamming64(aHi, aLo, bHi, bLo)`, `popcount32(x)`.
 *  - `soundFromRaw(values: Uint32Array | number[]): MediaFingerprint['sound']` — null for silence.
 */

export interface MediaFingerprint {
  version: 1;
  durationSeconds: number;
  picture: {
    fps: number;
    /** One 64-bit hash a frame (16 hex digits), of the whole frame. */
    hashes: string[];
    /** The same frames' central window of the other orientation (see the top of this file). */
    centre: string[];
  } | null;
  sound: { rate: number; values: number[] } | null;
}

export const HASH_SIDE = 32;
/** Frames a second hashed: enough to place an edit within ±0.25 s, few enough to stay cheap. */
export const PICTURE_FPS = 4;
/** Chromaprint's values a second: 11025 Hz, a 4096-sample frame every third of a frame (ffmpeg's chromaprint muxer). */
export const SOUND_RATE = (11025 * 3) / 4096;

const LOW = 8;
const cosTables = new Map<number, Float64Array>();

/** cos((2x+1)uπ / 2N) for u < 8, x < N. */
function cosTable(side: number): Float64Array {
  let table = cosTables.get(side);
  if (!table) {
    table = new Float64Array(LOW * side);
    for (let u = 0; u < LOW; u += 1) for (let x = 0; x < side; x += 1) table[u * side + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * side));
    cosTables.set(side, table);
  }
  return table;
}

/** The 8×8 lowest DCT-II coefficients of a side×side grey frame (row-major, unnormalised: only their order matters). */
export function lowDct(gray: Uint8Array, side = HASH_SIDE): Float64Array {
  if (gray.length < side * side) throw new Error(`a ${side}×${side} frame needs ${side * side} bytes, got ${gray.length}`);
  const table = cosTable(side);
  // Rows first: for each row y, its 8 low horizontal frequencies.
  const rows = new Float64Array(side * LOW);
  for (let y = 0; y < side; y += 1) {
    for (let u = 0; u < LOW; u += 1) {
      let sum = 0;
      for (let x = 0; x < side; x += 1) sum += (gray[y * side + x] ?? 0) * (table[u * side + x] ?? 0);
      rows[y * LOW + u] = sum;
    }
  }
  const out = new Float64Array(LOW * LOW);
  for (let v = 0; v < LOW; v += 1) {
    for (let u = 0; u < LOW; u += 1) {
      let sum = 0;
      for (let y = 0; y < side; y += 1) sum += (rows[y * LOW + u] ?? 0) * (table[v * side + y] ?? 0);
      out[v * LOW + u] = sum;
    }
  }
  return out;
}

/** A frame whose grey levels spread less than this (standard deviation) is flat: black, a fade, a plain card. */
export const FLAT_BELOW = 3;
/** The hash of a flat frame: it says nothing, so it is never matched or indexed (a real hash has about 32 bits set). */
export const FLAT_HASH = '0000000000000000';

/** The 64-bit perceptual hash of one grey frame, as 16 hex digits (bit 63 = coefficient (0,0)); FLAT_HASH for a flat frame. */
export function dctHash(gray: Uint8Array, side = HASH_SIDE): string {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < side * side; i += 1) {
    const v = gray[i] ?? 0;
    sum += v;
    squares += v * v;
  }
  const mean = sum / (side * side);
  if (squares / (side * side) - mean * mean < FLAT_BELOW * FLAT_BELOW) return FLAT_HASH;
  const coefficients = lowDct(gray, side);
  const sorted = Float64Array.from(coefficients).sort();
  const median = ((sorted[31] ?? 0) + (sorted[32] ?? 0)) / 2;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 64; i += 1) {
    const bit = (coefficients[i] ?? 0) > median ? 1 : 0;
    if (i < 32) hi = ((hi << 1) | bit) >>> 0;
    else lo = ((lo << 1) | bit) >>> 0;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

export function hashHalves(hex: string): [number, number] {
  return [parseInt(hex.slice(0, 8), 16) >>> 0, parseInt(hex.slice(8, 16), 16) >>> 0];
}

export function popcount32(x: number): number {
  let v = x >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function hamming64(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return popcount32(aHi ^ bHi) + popcount32(aLo ^ bLo);
}

/**
 * Chromaprint's values, or null when there is nothing to recognise: silence gives one value repeated. A sound
 * with fewer than a fifth distinct values (or under 2 s of values) is treated as silent.
 */
export function soundFromRaw(values: Uint32Array | number[]): MediaFingerprint['sound'] {
  const list = Array.from(values, (v) => v >>> 0);
  if (list.length < 2 * SOUND_RATE || new Set(list).size < list.length / 5) return null;
  return { rate: SOUND_RATE, values: list };
}

import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { ScoredBox } from './face-tiles';

/**
 * BlazeFace (MediaPipe's short-range face detector, the copy that ships in @vladmandic/human's models folder) run
 * directly: the picture stretched to the model's 256×256 square, one inference, the 896 anchors decoded and
 * thinned here. It is what human's own face detector does (src/face/blazeface.ts) without the rest of human's
 * pipeline around it, which cost as much again as the model itself per look.
 */

/** The model's square input side. */
export const BLAZEFACE_SIDE = 256;

/** The anchors' centres, in model pixels: a 16×16 grid (stride 16) with 2 anchors a cell, then 8×8 (stride 32) with 6. */
export function blazefaceAnchors(side = BLAZEFACE_SIDE): Array<[number, number]> {
  const anchors: Array<[number, number]> = [];
  for (const { stride, count } of [{ stride: side / 16, count: 2 }, { stride: side / 8, count: 6 }]) {
    const cells = Math.ceil(side / stride);
    for (let y = 0; y < cells; y += 1) {
      for (let x = 0; x < cells; x += 1) {
        for (let n = 0; n < count; n += 1) anchors.push([stride * (x + 0.5), stride * (y + 0.5)]);
      }
    }
  }
  return anchors;
}

export interface BlazefaceOptions {
  minScore: number;
  maxDetected: number;
  /** Boxes overlapping a better one by more than this (intersection over union) are the same face. */
  nmsIou: number;
}

/**
 * Runs the model on `image` (an int32 or float RGB picture, any size) and returns the faces in its pixels, each
 * box made square around its centre (as human does).
 */
export async function detectBlazeface(model: GraphModel, anchors: ReadonlyArray<[number, number]>, image: tf.Tensor3D, options: BlazefaceOptions): Promise<ScoredBox[]> {
  const [height, width] = image.shape;
  const outputs = tf.tidy(() => {
    const resized = tf.image.resizeBilinear(tf.expandDims(image, 0) as tf.Tensor4D, [BLAZEFACE_SIDE, BLAZEFACE_SIDE]);
    const normalized = tf.sub(tf.div(resized, 127.5), 1);
    return model.execute(normalized) as tf.Tensor[];
  });
  let rows: Float32Array;
  try {
    rows = await anchorRows(outputs, anchors.length);
  } finally {
    tf.dispose(outputs);
  }
  const sx = width / BLAZEFACE_SIDE;
  const sy = height / BLAZEFACE_SIDE;
  const candidates: ScoredBox[] = [];
  for (let i = 0; i < anchors.length; i += 1) {
    const row = i * 17;
    const score = 1 / (1 + Math.exp(-rows[row]!));
    if (score <= options.minScore) continue;
    const [ax, ay] = anchors[i]!;
    const cx = rows[row + 1]! + ax;
    const cy = rows[row + 2]! + ay;
    const w = rows[row + 3]!;
    const h = rows[row + 4]!;
    candidates.push({ x: (cx - w / 2) * sx, y: (cy - h / 2) * sy, width: w * sx, height: h * sy, score });
  }
  return suppress(candidates, options).map(square);
}

/**
 * The model's four outputs (scores and boxes of the 512 stride-16 anchors and of the 384 stride-32 ones) as one
 * array of 17 numbers an anchor (score logit, centre offset x y, width, height, six key points), 512 first.
 */
async function anchorRows(outputs: tf.Tensor[], count: number): Promise<Float32Array> {
  const pick = (anchors: number, columns: number) => {
    const found = outputs.find((t) => t.shape[1] === anchors && t.shape[2] === columns);
    if (!found) throw new Error(`face detector: the model gave no ${anchors}×${columns} output (got ${outputs.map((t) => t.shape.join('×')).join(', ')})`);
    return found;
  };
  const parts = [[512, pick(512, 1), pick(512, 16)], [384, pick(384, 1), pick(384, 16)]] as const;
  const rows = new Float32Array(count * 17);
  let at = 0;
  for (const [anchors, scores, boxes] of parts) {
    const [s, b] = await Promise.all([scores.data(), boxes.data()]);
    for (let i = 0; i < anchors; i += 1) {
      rows[(at + i) * 17] = s[i]!;
      rows.set(b.subarray(i * 16, i * 16 + 16), (at + i) * 17 + 1);
    }
    at += anchors;
  }
  if (at !== count) throw new Error(`face detector: ${at} anchors decoded, ${count} expected`);
  return rows;
}

/** Greedy non-maximum suppression: best first, dropping boxes that overlap a kept one by more than `nmsIou`. */
function suppress(boxes: ScoredBox[], options: BlazefaceOptions): ScoredBox[] {
  const kept: ScoredBox[] = [];
  for (const box of [...boxes].sort((a, b) => b.score - a.score)) {
    if (kept.length >= options.maxDetected) break;
    if (kept.every((k) => overlap(k, box) <= options.nmsIou)) kept.push(box);
  }
  return kept;
}

function overlap(a: ScoredBox, b: ScoredBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/** The box made square (its longer side) around the same centre, in whole pixels. */
function square(box: ScoredBox): ScoredBox {
  const half = Math.max(box.width, box.height) / 2;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const x = Math.round(cx - half);
  const y = Math.round(cy - half);
  return { x, y, width: Math.round(cx + half) - x, height: Math.round(cy + half) - y, score: box.score };
}

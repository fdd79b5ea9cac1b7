import { randomBytes } from 'node:crypto';
import type { FaceMask, MaskBox, TrackKey, TrackSettings } from './face-track';

/**
 * From detections to masks, and from masks to what ffmpeg draws on each frame: pure functions, so the worker,
 * the review page and the tests all see the same boxes.
 */

export interface Detection {
  /** The frame's time in the master's picture. */
  t: number;
  boxes: MaskBox[];
}

function iou(a: MaskBox, b: MaskBox): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.w, b.x + b.w);
  const y2 = Math.min(a.y + a.h, b.y + b.h);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}

/** How alike two boxes are for tracking: overlap, or a centre within a box's size of the other's (fast movement). */
function affinity(a: MaskBox, b: MaskBox): number {
  const overlap = iou(a, b);
  if (overlap > 0) return 1 + overlap;
  const dx = a.x + a.w / 2 - (b.x + b.w / 2);
  const dy = a.y + a.h / 2 - (b.y + b.h / 2);
  const reach = Math.max(a.w, a.h, b.w, b.h) * 1.5;
  const distance = Math.hypot(dx, dy);
  return distance < reach ? 1 - distance / reach : 0;
}

export function maskId(): string {
  return randomBytes(6).toString('hex');
}

/**
 * Links detections over time into masks: each detection joins the open mask it is most alike (greedy, best
 * pairs first); a mask not seen for `maxGapSeconds` is closed; a detection no open mask wants opens a new one.
 * Each mask then covers its first to its last detection, held `holdSeconds` either side.
 */
export function buildMasks(detections: Detection[], settings: Pick<TrackSettings, 'holdSeconds' | 'maxGapSeconds'>, durationSeconds: number, newId: () => string = maskId): FaceMask[] {
  const open: Array<{ keys: TrackKey[] }> = [];
  const closed: Array<{ keys: TrackKey[] }> = [];
  for (const frame of [...detections].sort((a, b) => a.t - b.t)) {
    for (let i = open.length - 1; i >= 0; i--) {
      if (frame.t - open[i]!.keys.at(-1)!.t > settings.maxGapSeconds) closed.push(...open.splice(i, 1));
    }
    const pairs: Array<{ mask: number; box: number; score: number }> = [];
    open.forEach((mask, m) => frame.boxes.forEach((box, b) => {
      const score = affinity(mask.keys.at(-1)!.box, box);
      if (score > 0) pairs.push({ mask: m, box: b, score });
    }));
    pairs.sort((a, b) => b.score - a.score);
    const usedMasks = new Set<number>();
    const usedBoxes = new Set<number>();
    for (const pair of pairs) {
      if (usedMasks.has(pair.mask) || usedBoxes.has(pair.box)) continue;
      usedMasks.add(pair.mask);
      usedBoxes.add(pair.box);
      open[pair.mask]!.keys.push({ t: frame.t, box: frame.boxes[pair.box]! });
    }
    frame.boxes.forEach((box, b) => {
      if (!usedBoxes.has(b)) open.push({ keys: [{ t: frame.t, box }] });
    });
  }
  return [...closed, ...open]
    .map((mask) => ({
      id: newId(),
      source: 'detector' as const,
      start: Math.max(0, mask.keys[0]!.t - settings.holdSeconds),
      end: Math.min(durationSeconds, mask.keys.at(-1)!.t + settings.holdSeconds),
      keys: mask.keys,
    }))
    .sort((a, b) => a.start - b.start);
}

const clamp01 = (n: number) => Math.min(1, Math.max(0, n));

/**
 * The box that covers a mask at time `t`, or null outside its range. Between two keys the box is interpolated
 * and grown by half the distance the face moved and half the change of its size between them (a face moving or
 * zooming fast between two detections stays covered), then every side grows by `margin` of the box's size; the
 * result is clipped to the frame.
 */
export function maskBoxAt(mask: FaceMask, t: number, margin: number): MaskBox | null {
  if (t < mask.start || t > mask.end || mask.keys.length === 0) return null;
  const keys = mask.keys;
  let box: MaskBox;
  let moveX = 0;
  let moveY = 0;
  const next = keys.findIndex((key) => key.t >= t);
  if (next === 0) box = keys[0]!.box;
  else if (next === -1) box = keys.at(-1)!.box;
  else {
    const a = keys[next - 1]!;
    const b = keys[next]!;
    const f = b.t === a.t ? 0 : (t - a.t) / (b.t - a.t);
    const lerp = (p: number, q: number) => p + (q - p) * f;
    box = { x: lerp(a.box.x, b.box.x), y: lerp(a.box.y, b.box.y), w: lerp(a.box.w, b.box.w), h: lerp(a.box.h, b.box.h) };
    // Half the way the centre moved, and half the change of size (a zoom, a face coming closer).
    moveX = (Math.abs(b.box.x + b.box.w / 2 - (a.box.x + a.box.w / 2)) + Math.abs(b.box.w - a.box.w)) / 2;
    moveY = (Math.abs(b.box.y + b.box.h / 2 - (a.box.y + a.box.h / 2)) + Math.abs(b.box.h - a.box.h)) / 2;
  }
  const growX = box.w * margin + moveX;
  const growY = box.h * margin + moveY;
  const x1 = clamp01(box.x - growX);
  const y1 = clamp01(box.y - growY);
  const x2 = clamp01(box.x + box.w + growX);
  const y2 = clamp01(box.y + box.h + growY);
  if (x2 <= x1 || y2 <= y1) return null;
  return { x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
}

/** Every mask's box at time `t` (the boxes to draw on the frame shown at `t`). */
export function boxesAt(masks: FaceMask[], t: number, margin: number): MaskBox[] {
  return masks.flatMap((mask) => {
    const box = maskBoxAt(mask, t, margin);
    return box ? [box] : [];
  });
}

export interface PixelBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A box in a frame's pixels, rounded outwards (a face's edge is never left showing by a rounding). */
export function toPixels(box: MaskBox, width: number, height: number): PixelBox {
  const x1 = Math.floor(box.x * width);
  const y1 = Math.floor(box.y * height);
  const x2 = Math.min(width, Math.ceil((box.x + box.w) * width));
  const y2 = Math.min(height, Math.ceil((box.y + box.h) * height));
  return { x: x1, y: y1, w: Math.max(1, x2 - x1), h: Math.max(1, y2 - y1) };
}

/** Where an unused drawbox slot waits: a 1-pixel box off the frame (w=0 would mean the whole width). */
const PARKED: PixelBox = { x: -16, y: -16, w: 1, h: 1 };

export interface DrawPlan {
  /** How many drawbox slots the graph needs (the most faces on one frame; at least one). */
  slots: number;
  /** ffmpeg sendcmd script: at each frame whose boxes change, every changed slot's new position. */
  script: string;
}

/**
 * The masking pass's instructions for a picture of `width`×`height` at `fps` frames a second: for every frame
 * (time n/fps, as the constant-rate picture's timestamps), the boxes of every mask, each in a slot of its own;
 * commands are written only when a slot changes. Times are written a hundredth of a frame early so that float
 * rounding can never let a frame pass with the previous frame's boxes.
 */
export function drawPlan(masks: FaceMask[], options: { width: number; height: number; fps: number; durationSeconds: number; margin: number }): DrawPlan {
  const frames = Math.ceil(options.durationSeconds * options.fps) + 1;
  const perFrame: PixelBox[][] = [];
  let slots = 1;
  for (let n = 0; n < frames; n++) {
    const boxes = boxesAt(masks, n / options.fps, options.margin).map((box) => toPixels(box, options.width, options.height));
    perFrame.push(boxes);
    slots = Math.max(slots, boxes.length);
  }
  const lines: string[] = [];
  const current: PixelBox[] = Array.from({ length: slots }, () => ({ x: Number.NaN, y: 0, w: 0, h: 0 }));
  perFrame.forEach((boxes, n) => {
    const commands: string[] = [];
    for (let slot = 0; slot < slots; slot++) {
      const box = boxes[slot] ?? PARKED;
      const was = current[slot]!;
      if (was.x === box.x && was.y === box.y && was.w === box.w && was.h === box.h) continue;
      current[slot] = box;
      commands.push(`drawbox@m${slot} x ${box.x}`, `drawbox@m${slot} y ${box.y}`, `drawbox@m${slot} w ${box.w}`, `drawbox@m${slot} h ${box.h}`);
    }
    if (commands.length === 0) return;
    const t = Math.max(0, (n - 0.01) / options.fps);
    lines.push(`${t.toFixed(6)} ${commands.join(', ')};`);
  });
  return { slots, script: lines.join('\n') + '\n' };
}

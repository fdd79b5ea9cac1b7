/** Where to look for small faces in a big frame, and how the boxes of several looks become one list. Pure. */

export interface Tile { x: number; y: number; size: number }
export interface ScoredBox { x: number; y: number; width: number; height: number; score: number }

export interface TilePlan {
  /** The model's input side (BlazeFace: 256). */
  modelSide: number;
  /** Tiles are at most this many times the model's side (a tile is scaled down by at most this factor). */
  maxScale: number;
  /** Neighbouring tiles share at least this part of a tile's side, so a face on a seam is whole in one of them. */
  minOverlap: number;
}

export const DEFAULT_TILE_PLAN: TilePlan = { modelSide: 256, maxScale: 2, minOverlap: 0.2 };

/**
 * The square tiles to run besides the whole frame, or none when the frame's longer side is within
 * `maxScale` model sides (the whole frame is then looked at finely enough). The whole frame is squeezed
 * into the model's square, so a 640×360 frame shrinks 2.5× across; square tiles keep faces' proportions and
 * shrink them at most `maxScale` times. Tiles cover the frame, overlap by at least `minOverlap`, and sit
 * evenly from edge to edge (the last touches the far edge).
 */
export function planTiles(width: number, height: number, plan: TilePlan = DEFAULT_TILE_PLAN): Tile[] {
  const limit = plan.modelSide * plan.maxScale;
  if (Math.max(width, height) <= limit) return [];
  const size = Math.min(width, height, limit);
  const xs = spread(width, size, plan.minOverlap);
  const ys = spread(height, size, plan.minOverlap);
  return ys.flatMap((y) => xs.map((x) => ({ x, y, size })));
}

/** Start positions of tiles of `size` along a side of `length`, evenly spaced, overlapping by ≥ `minOverlap`·size. */
function spread(length: number, size: number, minOverlap: number): number[] {
  if (length <= size) return [0];
  const step = size * (1 - minOverlap);
  const count = Math.ceil((length - size) / step) + 1;
  const gap = (length - size) / (count - 1);
  return Array.from({ length: count }, (_, i) => Math.round(i * gap));
}

/** Intersection over union of two boxes (0 when apart). */
export function iou(a: ScoredBox, b: ScoredBox): number {
  const inter = intersection(a, b);
  return inter === 0 ? 0 : inter / (a.width * a.height + b.width * b.height - inter);
}

/** How much of the smaller box lies inside the other (1 when one holds the other). */
export function cover(a: ScoredBox, b: ScoredBox): number {
  const inter = intersection(a, b);
  return inter === 0 ? 0 : inter / Math.min(a.width * a.height, b.width * b.height);
}

function intersection(a: ScoredBox, b: ScoredBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** How exactly a look outlines a face: a face whole in a tile beats the whole frame's (squeezed) view of it, which beats a face cut by a tile's edge. */
export const PRECISION = { cutByTile: 0, wholeFrame: 1, wholeInTile: 2 } as const;

export interface LookedBox extends ScoredBox { precision: number }

/**
 * Whether a box found in `tile` reaches one of the tile's edges that lie inside the frame (the face may go on
 * beyond it: it is whole in the neighbouring tile, or big enough for the whole frame's look).
 */
export function cutByTile(box: ScoredBox, tile: Tile, width: number, height: number, slack = 1): boolean {
  return (
    (tile.x > 0 && box.x <= tile.x + slack) ||
    (tile.y > 0 && box.y <= tile.y + slack) ||
    (tile.x + tile.size < width && box.x + box.width >= tile.x + tile.size - slack) ||
    (tile.y + tile.size < height && box.y + box.height >= tile.y + tile.size - slack)
  );
}

/**
 * One box per face from the boxes of the whole frame and of the tiles. Boxes that overlap by `minIou`, or of
 * which one lies mostly (`minCover`) inside the other, are the same face. Its box is the union of that face's
 * most precise boxes (two tiles that both hold it whole), its score the best of all.
 */
export function mergeBoxes(boxes: readonly LookedBox[], minIou = 0.3, minCover = 0.7): ScoredBox[] {
  const faces: Array<LookedBox & { best: number }> = [];
  const ordered = [...boxes].sort((a, b) => b.precision - a.precision || b.score - a.score);
  for (const box of ordered) {
    const same = faces.find((f) => iou(f, box) >= minIou || cover(f, box) >= minCover);
    if (!same) {
      faces.push({ ...box, best: box.score });
      continue;
    }
    same.best = Math.max(same.best, box.score);
    if (box.precision < same.precision) continue;
    const right = Math.max(same.x + same.width, box.x + box.width);
    const bottom = Math.max(same.y + same.height, box.y + box.height);
    same.x = Math.min(same.x, box.x);
    same.y = Math.min(same.y, box.y);
    same.width = right - same.x;
    same.height = bottom - same.y;
  }
  return faces.map(({ x, y, width, height, best }) => ({ x, y, width, height, score: best }));
}

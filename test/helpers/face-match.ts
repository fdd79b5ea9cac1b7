import type { FaceBox } from '../../worker/faces/face-detector';
import { iou } from '../../worker/faces/face-tiles';

/**
 * Which of the `expected` faces `found` has, pairing boxes one to one (each expected face takes the unpaired
 * found box it overlaps most) when they overlap by at least `minIou`.
 */
export function matchFaces(expected: readonly FaceBox[], found: readonly FaceBox[], minIou = 0.3): { matched: FaceBox[]; missed: FaceBox[] } {
  const free = new Set(found);
  const matched: FaceBox[] = [];
  const missed: FaceBox[] = [];
  for (const face of [...expected].sort((a, b) => b.score - a.score)) {
    let best: FaceBox | undefined;
    let bestIou = minIou;
    for (const box of free) {
      const overlap = iou(face, box);
      if (overlap >= bestIou) [best, bestIou] = [box, overlap];
    }
    if (best) {
      free.delete(best);
      matched.push(face);
    } else {
      missed.push(face);
    }
  }
  return { matched, missed };
}

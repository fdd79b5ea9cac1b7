import { cutByTile, mergeBoxes, planTiles, PRECISION } from '../../worker/faces/face-tiles';

describe('planTiles', () => {
  test('when the frame fits within two model sides (512 px), then no tile is needed', () => {
    expect(planTiles(512, 288)).toEqual([]);
    expect(planTiles(320, 512)).toEqual([]);
  });

  test('when the frame is 640×360, then two 360 px squares cover it, overlapping by 80 px', () => {
    expect(planTiles(640, 360)).toEqual([
      { x: 0, y: 0, size: 360 },
      { x: 280, y: 0, size: 360 },
    ]);
  });

  test('when the frame is portrait 360×640, then the squares go down it', () => {
    expect(planTiles(360, 640)).toEqual([
      { x: 0, y: 0, size: 360 },
      { x: 0, y: 280, size: 360 },
    ]);
  });

  test('when the frame is 1280×720, then 512 px squares (at most 2× the model side) in a 3 × 2 grid', () => {
    expect(planTiles(1280, 720)).toEqual([
      { x: 0, y: 0, size: 512 },
      { x: 384, y: 0, size: 512 },
      { x: 768, y: 0, size: 512 },
      { x: 0, y: 208, size: 512 },
      { x: 384, y: 208, size: 512 },
      { x: 768, y: 208, size: 512 },
    ]);
  });

  test('when the frame is 1920×1080, then the tiles cover it edge to edge and neighbours share at least 20 %', () => {
    const tiles = planTiles(1920, 1080);
    const xs = [...new Set(tiles.map((t) => t.x))];
    const ys = [...new Set(tiles.map((t) => t.y))];
    expect(xs).toEqual([0, 352, 704, 1056, 1408]);
    expect(ys).toEqual([0, 284, 568]);
    for (const starts of [xs, ys]) {
      starts.slice(1).forEach((start, i) => expect(start - starts[i]!).toBeLessThanOrEqual(512 * 0.8));
    }
    expect(Math.max(...tiles.map((t) => t.x + t.size))).toBe(1920);
    expect(Math.max(...tiles.map((t) => t.y + t.size))).toBe(1080);
  });
});

describe('cutByTile', () => {
  const right = { x: 280, y: 0, size: 360 };
  test('when a box reaches a tile edge inside the frame, then the face may be cut', () => {
    expect(cutByTile({ x: 281, y: 100, width: 30, height: 30, score: 1 }, right, 640, 360)).toBe(true);
    expect(cutByTile({ x: 0, y: 100, width: 360, height: 30, score: 1 }, { x: 0, y: 0, size: 360 }, 640, 360)).toBe(true);
  });
  test('when a box reaches only the frame edge, then it is whole', () => {
    expect(cutByTile({ x: 600, y: 0, width: 40, height: 40, score: 1 }, right, 640, 360)).toBe(false);
    expect(cutByTile({ x: 400, y: 320, width: 30, height: 40, score: 1 }, right, 640, 360)).toBe(false);
  });
});

describe('mergeBoxes', () => {
  test('when two tiles hold the same face whole and the squeezed whole frame saw it too, then one box: the tiles’ union, the best score', () => {
    expect(
      mergeBoxes([
        { x: 300, y: 100, width: 20, height: 20, score: 0.8, precision: PRECISION.wholeInTile },
        { x: 302, y: 101, width: 20, height: 20, score: 0.9, precision: PRECISION.wholeInTile },
        { x: 290, y: 90, width: 40, height: 40, score: 0.95, precision: PRECISION.wholeFrame },
      ]),
    ).toEqual([{ x: 300, y: 100, width: 22, height: 21, score: 0.95 }]);
  });

  test('when a tile cut a face the whole frame saw, then the whole frame’s box stands', () => {
    expect(
      mergeBoxes([
        { x: 270, y: 100, width: 80, height: 80, score: 0.9, precision: PRECISION.wholeFrame },
        { x: 280, y: 110, width: 40, height: 60, score: 0.95, precision: PRECISION.cutByTile },
      ]),
    ).toEqual([{ x: 270, y: 100, width: 80, height: 80, score: 0.95 }]);
  });

  test('when only a cut box saw a face, then it is kept (part of a face is better than none)', () => {
    expect(mergeBoxes([{ x: 280, y: 110, width: 40, height: 60, score: 0.5, precision: PRECISION.cutByTile }])).toEqual([
      { x: 280, y: 110, width: 40, height: 60, score: 0.5 },
    ]);
  });

  test('when two faces sit side by side, then they stay two', () => {
    expect(
      mergeBoxes([
        { x: 100, y: 100, width: 40, height: 40, score: 0.9, precision: PRECISION.wholeInTile },
        { x: 135, y: 100, width: 40, height: 40, score: 0.8, precision: PRECISION.wholeInTile },
      ]),
    ).toHaveLength(2);
  });
});

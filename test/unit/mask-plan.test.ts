import { boxesAt, buildMasks, drawPlan, maskBoxAt, toPixels, type Detection } from '../../shared/protection/mask-plan';
import type { FaceMask } from '../../shared/protection/face-track';

const settings = { holdSeconds: 0.25, maxGapSeconds: 0.6 };
let n = 0;
const ids = () => `m${(n += 1)}`;

/** A face moving right at `speed` (frame widths a second), seen every 0.1 s from `from` to `to`. */
function moving(from: number, to: number, speed: number, y = 0.3): Detection[] {
  const out: Detection[] = [];
  for (let t = from; t <= to + 1e-9; t += 0.1) out.push({ t: Math.round(t * 10) / 10, boxes: [{ x: 0.1 + speed * t, y, w: 0.1, h: 0.15 }] });
  return out;
}

describe('buildMasks', () => {
  test('when one face is seen in every detection, then it is one mask, held a quarter second either side', () => {
    const masks = buildMasks(moving(1, 3, 0.1), settings, 10, ids);
    expect(masks).toHaveLength(1);
    expect(masks[0]!.start).toBeCloseTo(0.75, 5);
    expect(masks[0]!.end).toBeCloseTo(3.25, 5);
    expect(masks[0]!.keys).toHaveLength(21);
  });

  test('when two faces are seen side by side, then each keeps its own mask', () => {
    const detections = moving(0, 2, 0).map((d) => ({ t: d.t, boxes: [...d.boxes, { x: 0.7, y: 0.3, w: 0.1, h: 0.15 }] }));
    const masks = buildMasks(detections, settings, 5, ids);
    expect(masks).toHaveLength(2);
    for (const mask of masks) expect(new Set(mask.keys.map((k) => Math.round(k.box.x * 10))).size).toBe(1);
  });

  test('when a face is missed for less than the gap, then its mask goes on across it; for longer, a new mask starts', () => {
    const short = moving(0, 2, 0).filter((d) => !(d.t > 0.95 && d.t < 1.45));
    expect(buildMasks(short, settings, 5, ids)).toHaveLength(1);
    const long = moving(0, 3, 0).filter((d) => !(d.t > 0.95 && d.t < 1.95));
    expect(buildMasks(long, settings, 5, ids)).toHaveLength(2);
  });

  test('when a face moves fast (a third of the frame a second), then it is still followed by one mask', () => {
    expect(buildMasks(moving(0, 2, 0.33), settings, 5, ids)).toHaveLength(1);
  });

  test('when masks are held, then they stay inside the clip', () => {
    const [mask] = buildMasks(moving(0, 0.3, 0), settings, 0.4, ids);
    expect(mask!.start).toBe(0);
    expect(mask!.end).toBe(0.4);
  });
});

describe('maskBoxAt', () => {
  const mask: FaceMask = {
    id: 'a',
    source: 'detector',
    start: 0,
    end: 2,
    keys: [
      { t: 0.5, box: { x: 0.2, y: 0.2, w: 0.1, h: 0.1 } },
      { t: 1.5, box: { x: 0.6, y: 0.2, w: 0.1, h: 0.1 } },
    ],
  };

  test('when between two detections, then the box covers both the interpolated face and half the way it moved', () => {
    const box = maskBoxAt(mask, 1, 0)!;
    // Interpolated at x=0.4; grown by half the 0.4 the centre moved (0.2) either side.
    expect(box.x).toBeCloseTo(0.2, 5);
    expect(box.x + box.w).toBeCloseTo(0.7, 5);
  });

  test('when before the first detection (the hold), then the first box is kept; outside the range, nothing', () => {
    expect(maskBoxAt(mask, 0.1, 0)).toEqual({ x: 0.2, y: 0.2, w: expect.closeTo(0.1, 5), h: expect.closeTo(0.1, 5) });
    expect(maskBoxAt(mask, 2.01, 0)).toBeNull();
  });

  test('when a margin is set, then every side grows by that share of the box, clipped to the frame', () => {
    const box = maskBoxAt({ ...mask, keys: [{ t: 0.5, box: { x: 0, y: 0.5, w: 0.2, h: 0.2 } }] }, 1, 0.5)!;
    expect(box).toEqual({ x: 0, y: expect.closeTo(0.4, 5), w: expect.closeTo(0.3, 5), h: expect.closeTo(0.4, 5) });
  });
});

describe('drawPlan', () => {
  test('when masks cover frames, then each frame whose boxes change gets commands, and unused slots are parked off the frame', () => {
    const masks = buildMasks(moving(0, 1, 0.2), settings, 2, ids);
    const plan = drawPlan(masks, { width: 640, height: 360, fps: 10, durationSeconds: 2, margin: 0.3 });
    expect(plan.slots).toBe(1);
    const lines = plan.script.trim().split('\n');
    expect(lines[0]).toMatch(/^0\.000000 drawbox@m0 x \d+, drawbox@m0 y \d+, drawbox@m0 w \d+, drawbox@m0 h \d+;$/);
    // After the hold the slot is parked: x -16, a 1-pixel box.
    expect(lines.at(-1)).toMatch(/drawbox@m0 x -16, drawbox@m0 y -16, drawbox@m0 w 1, drawbox@m0 h 1;$/);
    // Every frame time is written a hundredth of a frame early.
    expect(lines[1]).toMatch(/^0\.099000 /);
  });

  test('when every frame of a clip is checked, then every box the masks give is drawn on that frame (none skipped by the script)', () => {
    const masks = buildMasks([...moving(0, 3, 0.2), ...moving(1, 2, -0.1, 0.6)].sort((a, b) => a.t - b.t).reduce<Detection[]>((all, d) => {
      const same = all.find((x) => x.t === d.t);
      if (same) same.boxes.push(...d.boxes);
      else all.push({ t: d.t, boxes: [...d.boxes] });
      return all;
    }, []), settings, 4, ids);
    const fps = 25;
    const plan = drawPlan(masks, { width: 1280, height: 720, fps, durationSeconds: 4, margin: 0.3 });
    expect(plan.slots).toBe(2);
    // Replay the script: the slots' state at each frame equals the boxes wanted there.
    const state = Array.from({ length: plan.slots }, () => ({ x: -16, y: -16, w: 1, h: 1 }));
    const commands = plan.script.trim().split('\n').map((line) => {
      const [time, ...rest] = line.split(' ');
      return { t: Number(time), body: rest.join(' ') };
    });
    let next = 0;
    for (let frame = 0; frame <= 4 * fps; frame++) {
      const t = frame / fps;
      while (next < commands.length && commands[next]!.t <= t) {
        for (const part of commands[next]!.body.replace(/;$/, '').split(', ')) {
          const [target, key, value] = part.split(' ');
          const slot = Number(target!.split('@m')[1]);
          (state[slot] as Record<string, number>)[key!] = Number(value);
        }
        next += 1;
      }
      const wanted = boxesAt(masks, t, 0.3).map((b) => toPixels(b, 1280, 720));
      const drawn = state.filter((s) => s.x >= 0);
      expect(drawn).toEqual(expect.arrayContaining(wanted));
      expect(drawn).toHaveLength(wanted.length);
    }
  });
});

import { hashHalves, popcount32, type MediaFingerprint } from './fingerprint';

/**
 * Aligns a copy (the query) against a release, each track on its own, and says what happened to the release.
 * Pure; the thresholds come from measurements (test/integration/fingerprint.test.ts prints them).
 *
 * Exported API
 *  - `Range` { start, end } in seconds; `Segment` { copy, release, offsetSeconds } (release time = copy time + offset);
 *  - `TrackTimeline` { segments, matchedSeconds, kept, cut, replaced, foreign } — kept/cut/replaced in the release's
 *    time, foreign in the copy's; `cut`: the copy goes on without it; `replaced`: the copy shows (or plays) something
 *    else in its place; `foreign`: parts of the copy from no part of this release (spliced footage, a different intro…).
 *  - `alignPicture(copy, release): TrackTimeline | null` (null when either has no picture),
 *    `alignSound(copy, release): TrackTimeline | null` (null when either has no sound);
 *    The picture tries each of GEOMETRIES (`same`, `cropped`, `framed`) and keeps the one that explains most;
 *  - `alignHashes(pairs: Array<[copyHashes, releaseHashes]>, durations, params?)` — one geometry (element distance: the
 *    least over the pairs);
 *  - `revoiced(picture, sound, release): Range[]` — release time where the picture is kept but the sound is not.
 *  - `PICTURE_MATCH`, `SOUND_MATCH`: the thresholds; `isMatch(timeline, params)`; `mergeRanges`, `complement`.
 */

export interface Range {
  start: number;
  end: number;
}

export interface Segment {
  copy: Range;
  release: Range;
  /** release time − copy time. */
  offsetSeconds: number;
}

export interface TrackTimeline {
  segments: Segment[];
  matchedSeconds: number;
  kept: Range[];
  cut: Range[];
  replaced: Range[];
  foreign: Range[];
}

export interface TrackParams {
  /** Elements a second. */
  rate: number;
  /** An element pair this close (after smoothing) is the same content. */
  sameAt: number;
  /** A pair this close votes for its offset. */
  voteAt: number;
  /** Elements each side that the distance is smoothed over (median for the picture, mean for the sound). */
  smooth: number;
  smoothBy: 'median' | 'mean';
  /** Holes of at most this many seconds inside a run are filled (a flash, a transition, a re-encode's bad frame). */
  fillSeconds: number;
  /** A run shorter than this is not a match. */
  minRunSeconds: number;
  /** A track matches when its segments total at least this. */
  minMatchSeconds: number;
  /**
   * Where in the file element 0 sits, in seconds (0 for the picture's frames). A chromaprint value hears the frames
   * around it, so its i-th value is about i / rate + this: measured on a release cut at 8–13 s, the sound's cut read
   * 6.9–11.9 without it. Runs that reach the first or last element reach the file's start or end.
   */
  startSeconds: number;
}

/**
 * Picture: 64-bit DCT hashes at 4 fps. Measured on the generated clips (test/integration/fingerprint.test.ts): frames of
 * a 360p 150 kb/s copy, a 9:16 re-crop or a logo copy differ from the release's by p50 6–10, p90 10–16 bits (a logo over
 * the whole frame 18–24: the central window avoids it); unrelated frame pairs by p1 22, p50 30–32 bits, the closest
 * pair of all 14. So 14 on the median of 5 frames, over a run of 3 s at one offset: no unrelated pair of the 210
 * compared (with ../shared/media) matched a single run.
 */
export const PICTURE_MATCH: TrackParams = { rate: 4, sameAt: 14, voteAt: 10, smooth: 2, smoothBy: 'median', fillSeconds: 1.25, minRunSeconds: 3, minMatchSeconds: 4, startSeconds: 0 };
/**
 * Sound: chromaprint values (32 bits, ≈ 8.07 a second). Measured: a copy's values differ from the release's by p50 0,
 * p90 ≤ 1 bit (80–99 % identical, even at 48 kb/s mono); unrelated values by p1 7–8, p50 14 bits. So 10 on the mean
 * over ±4 values (1 s), over a run of 3 s.
 */
export const SOUND_MATCH: TrackParams = { rate: (11025 * 3) / 4096, sameAt: 10, voteAt: 4, smooth: 4, smoothBy: 'mean', fillSeconds: 1, minRunSeconds: 3, minMatchSeconds: 4, startSeconds: 1.1 };

/** At most this many offsets are tried per track (a copy cut in more places is still mostly found). */
const MAX_OFFSETS = 12;
const EMPTY = 0xffff;

/** A track as distances between elements: `usable[i]` false for an element that says nothing (flat frame, steady sound). */
interface Elements {
  count: number;
  usable: Uint8Array;
}

interface Pairwise {
  query: Elements;
  release: Elements;
  distance(i: number, j: number): number;
}

export function isMatch(timeline: TrackTimeline | null, params: TrackParams): boolean {
  return timeline !== null && timeline.matchedSeconds >= params.minMatchSeconds;
}

function smoothed(values: Float64Array, radius: number, by: 'median' | 'mean'): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i += 1) {
    const window: number[] = [];
    for (let k = Math.max(0, i - radius); k <= Math.min(values.length - 1, i + radius); k += 1) if (values[k]! < EMPTY) window.push(values[k]!);
    if (window.length === 0) out[i] = EMPTY;
    else if (by === 'mean') out[i] = window.reduce((a, b) => a + b, 0) / window.length;
    else {
      window.sort((a, b) => a - b);
      out[i] = window[Math.floor(window.length / 2)]!;
    }
  }
  return out;
}

/**
 * Runs [from, to) of matched elements at one offset: matched where the smoothed distance is within `sameAt`, holes up
 * to `fillSeconds` filled, each run's ends trimmed to elements that match on their own, runs under `minRunSeconds`
 * dropped. `score` weighs each matched element by how close it is, so that of two nearby offsets (a slow shot looks
 * alike a second apart) the true one wins.
 */
function runsAt(p: Pairwise, offset: number, params: TrackParams, taken: Uint8Array): { runs: Array<[number, number]>; score: number } {
  const d = new Float64Array(p.query.count).fill(EMPTY);
  for (let i = 0; i < p.query.count; i += 1) {
    if (!p.query.usable[i]) continue;
    let best = EMPTY;
    for (let k = -1; k <= 1; k += 1) {
      const j = i + offset + k;
      if (j >= 0 && j < p.release.count && p.release.usable[j]) best = Math.min(best, p.distance(i, j) + (k === 0 ? 0 : 0.5));
    }
    d[i] = best;
  }
  const s = smoothed(d, params.smooth, params.smoothBy);
  const fill = Math.round(params.fillSeconds * params.rate);
  const minRun = Math.round(params.minRunSeconds * params.rate);
  const runs: Array<[number, number]> = [];
  let score = 0;
  let start = -1;
  let last = -1;
  const close = () => {
    if (start < 0) return;
    let from = start;
    let to = last + 1;
    // Inside the release only, and ending on elements that match on their own.
    while (from < to && (from + offset < 0 || !(d[from]! <= params.sameAt))) from += 1;
    while (to > from && (to - 1 + offset >= p.release.count || !(d[to - 1]! <= params.sameAt))) to -= 1;
    if (to - from >= minRun) {
      runs.push([from, to]);
      for (let i = from; i < to; i += 1) if (d[i]! <= params.sameAt) score += params.sameAt + 1 - d[i]!;
    }
    start = -1;
  };
  for (let i = 0; i < p.query.count; i += 1) {
    const ok = s[i]! <= params.sameAt && !taken[i];
    if (!ok) continue;
    if (start >= 0 && i - last - 1 > fill) close();
    if (start < 0) start = i;
    last = i;
  }
  close();
  return { runs, score };
}

function offsetCandidates(p: Pairwise, params: TrackParams): number[] {
  const votes = new Map<number, number>();
  for (let i = 0; i < p.query.count; i += 1) {
    if (!p.query.usable[i]) continue;
    for (let j = 0; j < p.release.count; j += 1) {
      if (p.release.usable[j] && p.distance(i, j) <= params.voteAt) votes.set(j - i, (votes.get(j - i) ?? 0) + 1);
    }
  }
  // Neighbouring offsets pool their votes (the copy's frames fall between the release's).
  const pooled = [...votes.keys()].map((o) => [o, (votes.get(o - 1) ?? 0) + (votes.get(o) ?? 0) + (votes.get(o + 1) ?? 0)] as const);
  pooled.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const chosen: number[] = [];
  const minVotes = Math.max(2, Math.round(params.rate));
  for (const [o, n] of pooled) {
    if (n < minVotes || chosen.length >= MAX_OFFSETS) break;
    if (chosen.every((c) => Math.abs(c - o) > 1)) chosen.push(o);
  }
  // Each pooled peak with its neighbours: the runs decide which of the three fits best.
  return [...new Set(chosen.flatMap((o) => [o, o - 1, o + 1]))];
}

function align(p: Pairwise, params: TrackParams, durations: { copy: number; release: number }): TrackTimeline {
  const offsets = offsetCandidates(p, params);
  const taken = new Uint8Array(p.query.count);
  const chosen: Array<{ offset: number; from: number; to: number }> = [];
  // Greedy: the offset that explains most of what is left of the copy, then the next, while one adds a whole run.
  for (;;) {
    let best: { offset: number; runs: Array<[number, number]>; score: number } | null = null;
    for (const offset of offsets) {
      const { runs, score } = runsAt(p, offset, params, taken);
      if (runs.length > 0 && (!best || score > best.score)) best = { offset, runs, score };
    }
    if (!best) break;
    for (const [from, to] of best.runs) {
      chosen.push({ offset: best.offset, from, to });
      taken.fill(1, from, to);
    }
  }
  chosen.sort((a, b) => a.from - b.from);
  const r = params.rate;
  // Element i at i / r + startSeconds; a run from the first element starts with the file, one to the last ends with it.
  const at = (index: number, count: number, duration: number) => (index <= 0 ? 0 : index >= count ? duration : Math.min(duration, index / r + params.startSeconds));
  // A run reaching the copy's own start or end reaches the release at the same offset (the copy's ends are heard there).
  const inRelease = (copyIndex: number, offset: number, copyTime: number) =>
    copyIndex <= 0 || copyIndex >= p.query.count ? Math.max(0, Math.min(durations.release, copyTime + offset / r)) : at(copyIndex + offset, p.release.count, durations.release);
  const segments: Segment[] = chosen.map(({ offset, from, to }) => {
    const copy = { start: at(from, p.query.count, durations.copy), end: at(to, p.query.count, durations.copy) };
    return { copy, release: { start: inRelease(from, offset, copy.start), end: inRelease(to, offset, copy.end) }, offsetSeconds: offset / r };
  });
  return timeline(segments, durations, params);
}

export function mergeRanges(ranges: Range[], gap = 0.3): Range[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: Range[] = [];
  for (const range of sorted) {
    const last = out[out.length - 1];
    if (last && range.start <= last.end + gap) last.end = Math.max(last.end, range.end);
    else out.push({ ...range });
  }
  return out;
}

/** What of [0, total] the ranges leave, pieces under `min` seconds dropped (the tracks' granularity). */
export function complement(ranges: Range[], total: number, min = 0.75): Range[] {
  const out: Range[] = [];
  let at = 0;
  for (const range of mergeRanges(ranges)) {
    if (range.start - at >= min) out.push({ start: at, end: range.start });
    at = Math.max(at, range.end);
  }
  if (total - at >= min) out.push({ start: at, end: total });
  return out;
}

function overlap(a: Range, b: Range): number {
  return Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start));
}

function timeline(segments: Segment[], durations: { copy: number; release: number }, params: TrackParams): TrackTimeline {
  const matchedSeconds = segments.reduce((a, s) => a + s.copy.end - s.copy.start, 0);
  const kept = mergeRanges(segments.map((s) => s.release));
  const foreign = complement(segments.map((s) => s.copy), durations.copy);
  const cut: Range[] = [];
  const replaced: Range[] = [];
  if (matchedSeconds >= params.minMatchSeconds) {
    for (const gap of complement(kept, durations.release)) {
      // Where the gap would be in the copy, by the offsets of the segments either side of it: foreign there means replaced.
      const near = segments.filter((s) => Math.abs(s.release.end - gap.start) < 1 || Math.abs(s.release.start - gap.end) < 1);
      const isReplaced = near.some((s) => {
        const inCopy = { start: gap.start - s.offsetSeconds, end: gap.end - s.offsetSeconds };
        const length = inCopy.end - inCopy.start;
        return foreign.reduce((a, f) => a + overlap(f, inCopy), 0) >= 0.8 * length;
      });
      (isReplaced ? replaced : cut).push(gap);
    }
  }
  return { segments, matchedSeconds, kept, cut, replaced, foreign };
}

function pictureElements(hashes: string[]): { hi: Uint32Array; lo: Uint32Array; elements: Elements } {
  const hi = new Uint32Array(hashes.length);
  const lo = new Uint32Array(hashes.length);
  const usable = new Uint8Array(hashes.length);
  hashes.forEach((hex, i) => {
    [hi[i], lo[i]] = hashHalves(hex);
    usable[i] = hi[i] !== 0 || lo[i] !== 0 ? 1 : 0; // 0 is a flat frame (fingerprint.ts): it says nothing
  });
  return { hi, lo, elements: { count: hashes.length, usable } };
}

/** Aligns lists of picture hashes: element distance = the least over the window pairs given (copy list, release list). */
export function alignHashes(
  pairs: Array<[string[], string[]]>,
  durations: { copy: number; release: number },
  params = PICTURE_MATCH,
): TrackTimeline {
  const lists = pairs.map(([copy, release]) => [pictureElements(copy), pictureElements(release)] as const);
  const [q0, r0] = lists[0]!;
  const usable = (which: 0 | 1, count: number) => {
    const out = new Uint8Array(count);
    for (const pair of lists) for (let i = 0; i < count; i += 1) out[i] = out[i]! | (pair[which].elements.usable[i] ?? 0);
    return out;
  };
  const query = { count: q0.elements.count, usable: usable(0, q0.elements.count) };
  const release = { count: r0.elements.count, usable: usable(1, r0.elements.count) };
  const distance = (i: number, j: number) => {
    let best = EMPTY;
    for (const [q, r] of lists) {
      if (q.elements.usable[i] && r.elements.usable[j]) best = Math.min(best, popcount32(q.hi[i]! ^ r.hi[j]!) + popcount32(q.lo[i]! ^ r.lo[j]!));
    }
    return best;
  };
  return align({ query, release, distance }, params, durations);
}

/**
 * How a copy's frame can sit over the release's: `same` (whole against whole, or central window against central
 * window, whichever is closer: a logo in a corner spoils the first, not the second), `cropped` (the copy is a re-crop of
 * the other orientation: its whole frame against the release's central window), `framed` (the release shown inside a
 * frame of the other orientation, with bars or a fill: the copy's central window against the release's whole frame).
 */
export const GEOMETRIES = ['same', 'cropped', 'framed'] as const;

/** The picture, in each geometry; the one that explains most of the copy wins. */
export function alignPicture(copy: MediaFingerprint, release: MediaFingerprint, params = PICTURE_MATCH): TrackTimeline | null {
  if (!copy.picture || !release.picture) return null;
  const durations = { copy: copy.durationSeconds, release: release.durationSeconds };
  const q = copy.picture;
  const r = release.picture;
  const geometries: Array<Array<[string[], string[]]>> = [
    [[q.hashes, r.hashes], [q.centre, r.centre]],
    [[q.hashes, r.centre]],
    [[q.centre, r.hashes]],
  ];
  let best: TrackTimeline | null = null;
  for (const pairs of geometries) {
    const t = alignHashes(pairs, durations, params);
    if (!best || t.matchedSeconds > best.matchedSeconds) best = t;
  }
  return best;
}

/** A value inside a run of three equal ones is a steady sound (silence, a held tone): it says nothing. */
function soundElements(values: number[]): Elements {
  const usable = new Uint8Array(values.length).fill(1);
  for (let i = 1; i + 1 < values.length; i += 1) {
    if (values[i] === values[i - 1] && values[i] === values[i + 1]) usable[i - 1] = usable[i] = usable[i + 1] = 0;
  }
  return { count: values.length, usable };
}

export function alignSound(copy: MediaFingerprint, release: MediaFingerprint, params = SOUND_MATCH): TrackTimeline | null {
  if (!copy.sound || !release.sound) return null;
  const q = copy.sound.values;
  const r = release.sound.values;
  // The values cover a little less than the file (chromaprint's filters need the frames around them): `startSeconds`
  // places them, and runs reaching the first or last value reach the file's ends.
  const durations = { copy: copy.durationSeconds, release: release.durationSeconds };
  return align({ query: soundElements(q), release: soundElements(r), distance: (i, j) => popcount32(q[i]! ^ r[j]!) }, params, durations);
}

/**
 * Release time where the copy keeps the picture but not the sound (only said when the copy has sound to compare). What
 * the sound track itself finds cut is not re-voiced: around a cut, chromaprint's values (each hears ~2 s) blur its place.
 */
export function revoiced(picture: TrackTimeline | null, sound: TrackTimeline | null, release: MediaFingerprint): Range[] {
  if (!picture || !sound || !release.sound || !isMatch(picture, PICTURE_MATCH)) return [];
  const heard = release.durationSeconds;
  const keptPicture = picture.kept.map((k) => ({ start: k.start, end: Math.min(k.end, heard) })).filter((k) => k.end > k.start);
  const out: Range[] = [];
  for (const k of keptPicture) {
    const notHeard = complement([...sound.kept, ...sound.cut].map((s) => ({ start: s.start - k.start, end: s.end - k.start })), k.end - k.start, 1);
    for (const n of notHeard) out.push({ start: n.start + k.start, end: n.end + k.start });
  }
  return mergeRanges(out);
}

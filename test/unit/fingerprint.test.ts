import { buildFingerprintArgs } from '../../worker/steps/fingerprint.step';
import { dctHash, FLAT_HASH, hamming64, hashHalves, lowDct, popcount32, soundFromRaw, type MediaFingerprint } from '../../shared/provenance/fingerprint';
import { alignHashes, alignSound, complement, PICTURE_MATCH, revoiced } from '../../shared/provenance/align';

/** A seeded pseudo-random generator (mulberry32): the same numbers on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function frame(draw: (x: number, y: number) => number): Uint8Array {
  const out = new Uint8Array(32 * 32);
  for (let y = 0; y < 32; y += 1) for (let x = 0; x < 32; x += 1) out[y * 32 + x] = Math.max(0, Math.min(255, Math.round(draw(x, y))));
  return out;
}

/** Ranges equal within `tolerance` seconds at each end. */
function expectRanges(actual: Array<{ start: number; end: number }>, expected: Array<{ start: number; end: number }>, tolerance = 0.5): void {
  const close = actual.length === expected.length && actual.every((a, i) => Math.abs(a.start - expected[i]!.start) <= tolerance && Math.abs(a.end - expected[i]!.end) <= tolerance);
  if (!close) expect(actual).toEqual(expected);
}

const distance = (a: string, b: string) => hamming64(...hashHalves(a), ...hashHalves(b));

/** A random walk of hashes: each next frame flips a few bits of the last (a shot that moves), a new shot now and then. */
function walk(n: number, seed: number): string[] {
  const next = random(seed);
  let hi = (next() * 2 ** 32) >>> 0;
  let lo = (next() * 2 ** 32) >>> 0;
  const out: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const flips = next() < 0.03 ? 32 : 2;
    for (let k = 0; k < flips; k += 1) {
      const bit = Math.floor(next() * 64);
      if (bit < 32) hi = (hi ^ (1 << bit)) >>> 0;
      else lo = (lo ^ (1 << (bit - 32))) >>> 0;
    }
    out.push(hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0'));
  }
  return out;
}

/** A copy's hashes: the release's with `bits` bits flipped at random in each (a re-encode). */
function noisy(hashes: string[], bits: number, seed: number): string[] {
  const next = random(seed);
  return hashes.map((hex) => {
    let [hi, lo] = hashHalves(hex);
    for (let k = 0; k < bits; k += 1) {
      const bit = Math.floor(next() * 64);
      if (bit < 32) hi = (hi ^ (1 << bit)) >>> 0;
      else lo = (lo ^ (1 << (bit - 32))) >>> 0;
    }
    return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
  });
}

describe('the fingerprint step', () => {
  test('when a file has picture and sound, then one run writes two grey 32×32 frame files at 4 fps and chromaprint\'s raw values', () => {
    const command = buildFingerprintArgs('/job/copy.mp4', '/job', { hasVideo: true, hasAudio: true });
    expect(command).toEqual({
      globalArgs: [
        '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-sn', '-dn', '-filter_complex',
        "[0:v:0]fps=4,format=gray,split=2[fpfull][fpcentre];[fpfull]scale=32:32:flags=area[full];[fpcentre]crop=w='if(gt(iw\\,ih)\\,ih*9/16\\,iw)':h='if(gt(iw\\,ih)\\,ih\\,iw*9/16)',scale=32:32:flags=area[centre]",
      ],
      inputs: [{ args: ['-format_whitelist', 'mov,matroska,avi,mpegts', '-protocol_whitelist', 'file'], path: '/job/copy.mp4' }],
      outputs: [
        { args: ['-map', '[full]', '-fps_mode', 'passthrough', '-c:v', 'rawvideo', '-f', 'rawvideo'], path: '/job/fingerprint-full.gray' },
        { args: ['-map', '[centre]', '-fps_mode', 'passthrough', '-c:v', 'rawvideo', '-f', 'rawvideo'], path: '/job/fingerprint-centre.gray' },
        { args: ['-map', '0:a:0', '-f', 'chromaprint', '-fp_format', 'raw'], path: '/job/fingerprint-sound.raw' },
      ],
    });
  });

  test('when a file has no sound, then no chromaprint output; with no picture, no graph', () => {
    expect(buildFingerprintArgs('/j/a.mp4', '/j', { hasVideo: true, hasAudio: false }).outputs.map((o) => o.path)).toEqual(['/j/fingerprint-full.gray', '/j/fingerprint-centre.gray']);
    const soundOnly = buildFingerprintArgs('/j/a.mp4', '/j', { hasVideo: false, hasAudio: true });
    expect(soundOnly.globalArgs).not.toContain('-filter_complex');
    expect(soundOnly.outputs.map((o) => o.path)).toEqual(['/j/fingerprint-sound.raw']);
  });
});

describe('the DCT hash', () => {
  const scene = (x: number, y: number) => 128 + 60 * Math.sin(x / 5) + 50 * Math.cos(y / 7) + (x > 16 && y < 10 ? 40 : 0);

  test('when the frame is a single cosine, then its energy is in that one coefficient', () => {
    const c = lowDct(frame((x) => 128 + 100 * Math.cos(((2 * x + 1) * 3 * Math.PI) / 64)));
    const ac = Array.from(c).map((v, i) => (i === 0 ? 0 : Math.abs(v)));
    expect(ac.indexOf(Math.max(...ac))).toBe(3);
  });

  test('when a frame is brightened, given contrast or noise, then its hash moves by a few bits; another scene is far', () => {
    const base = dctHash(frame(scene));
    const next = random(1);
    expect(popcount32(hashHalves(base)[0]) + popcount32(hashHalves(base)[1])).toBeGreaterThanOrEqual(28);
    expect(distance(base, dctHash(frame((x, y) => scene(x, y) * 0.8 + 30)))).toBeLessThanOrEqual(2);
    expect(distance(base, dctHash(frame((x, y) => scene(x, y) + (next() - 0.5) * 30)))).toBeLessThanOrEqual(10);
    expect(distance(base, dctHash(frame((x, y) => 128 + 60 * Math.cos(x / 3 + y / 4))))).toBeGreaterThan(PICTURE_MATCH.sameAt);
  });

  test('when a frame is flat (black, a fade), then it hashes to FLAT_HASH', () => {
    expect(dctHash(frame(() => 16))).toBe(FLAT_HASH);
    expect(dctHash(frame((x) => 16 + (x % 2)))).toBe(FLAT_HASH);
  });

  test('when chromaprint gave one value repeated (silence), then there is no sound fingerprint', () => {
    expect(soundFromRaw(new Array(80).fill(0x256df977))).toBeNull();
    expect(soundFromRaw(Array.from({ length: 80 }, (_, i) => i * 7919))).not.toBeNull();
  });
});

describe('alignment', () => {
  const release = walk(120, 7); // 30 s at 4 fps
  const durations = { copy: 30, release: 30 };

  test('when the copy is the release re-encoded, then all of it is kept and nothing is cut or foreign', () => {
    const t = alignHashes([[noisy(release, 4, 1), release]], durations);
    expect(t.kept).toEqual([{ start: 0, end: 30 }]);
    expect([t.cut, t.replaced, t.foreign]).toEqual([[], [], []]);
  });

  test('when 5 s are cut from the middle, then the cut is found at its place and the rest is kept with two offsets', () => {
    const copy = noisy([...release.slice(0, 48), ...release.slice(68)], 4, 2);
    const t = alignHashes([[copy, release]], { copy: 25, release: 30 });
    expectRanges(t.cut, [{ start: 12, end: 17 }]);
    expect(t.segments.map((s) => s.offsetSeconds)).toEqual([0, 5]);
    expect(t.foreign).toEqual([]);
  });

  test('when the release is spliced between other footage, then the other footage is foreign and the release kept', () => {
    const copy = [...walk(28, 99), ...noisy(release, 4, 3), ...walk(40, 98)];
    const t = alignHashes([[copy, release]], { copy: 47, release: 30 });
    expect(t.kept).toEqual([{ start: 0, end: 30 }]);
    expect(t.foreign).toEqual([{ start: 0, end: 7 }, { start: 37, end: 47 }]);
  });

  test('when 6 s of the picture are replaced in place, then they are replaced, not cut', () => {
    const copy = [...release.slice(0, 40), ...walk(24, 5), ...release.slice(64)];
    const t = alignHashes([[copy, release]], durations);
    expect(t.replaced).toEqual([{ start: 10, end: 16 }]);
    expect(t.cut).toEqual([]);
  });

  test('when unrelated walks are compared, then nothing matches', () => {
    for (let seed = 100; seed < 120; seed += 1) expect(alignHashes([[walk(120, seed), release]], durations).matchedSeconds).toBe(0);
  });

  test('when the sound is replaced under a kept picture, then the whole clip is re-voiced', () => {
    const values = (seed: number) => {
      const next = random(seed);
      return Array.from({ length: 230 }, () => (next() * 2 ** 32) >>> 0);
    };
    const fp = (hashes: string[], sound: number[]): MediaFingerprint => ({ version: 1, durationSeconds: 30, picture: { fps: 4, hashes, centre: hashes }, sound: { rate: (11025 * 3) / 4096, values: sound } });
    const original = fp(release, values(1));
    const copy = fp(noisy(release, 3, 4), values(2));
    const picture = alignHashes([[copy.picture!.hashes, release]], durations);
    const sound = alignSound(copy, original);
    expect(sound!.matchedSeconds).toBe(0);
    const r = revoiced(picture, sound, original);
    expect(r).toHaveLength(1);
    expect(r[0]!.start).toBe(0);
    // To the end of the clip: the values span the file (the last one hears its end; SOUND_MATCH.startSeconds).
    expect(r[0]!.end).toBe(30);
    // The same sound is kept, from start to end.
    expect(alignSound(fp(release, values(1)), original)!.kept).toEqual([{ start: 0, end: 30 }]);
  });

  test('complement leaves out pieces shorter than the tracks can tell', () => {
    expect(complement([{ start: 1, end: 5 }, { start: 5.5, end: 9 }], 10)).toEqual([{ start: 0, end: 1 }, { start: 9, end: 10 }]);
  });
});

import { readSigningMaterial } from '../../shared/provenance/signing-files';
import { releaseManifest } from '../../shared/provenance/release-manifest';
import { signFile } from '../../worker/steps/provenance.step';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../shared/config';
import { connectDatabase, type Database } from '../../shared/db';
import { findMatches, indexRelease, indexReleases, type ReleaseToIndex } from '../../shared/provenance/fingerprint-index';
import { PICTURE_FPS, SOUND_RATE, type MediaFingerprint } from '../../shared/provenance/fingerprint';
import { runLimits } from '../../worker/deps';
import type { RunLimits } from '../../worker/ffmpeg/ffmpeg';
import { fingerprintFile } from '../../worker/steps/fingerprint.step';
import { probe } from '../../worker/steps/probe.step';
import { renderRelease, type ReleasePlan } from '../../worker/steps/release.step';
import { editsOf, sourceClip, type Edit } from '../helpers/fingerprint-fixtures';
import { formatRatio, startBenchServices, timed } from './bench-env';

const run = promisify(execFile);

/**
 * npm run bench:verify, in one run (issue 17):
 *  1. fingerprint + index of a 60 s 1080p release ÷ the real renderRelease of the same master (3 shapes, no captions),
 *     both wall-clock in this run: target ≤ 0.10. The `source` render is fingerprinted: its two windows (whole frame,
 *     central window of the other orientation) also find copies of the square and vertical renders, which show the
 *     same picture inside a fill (align.ts, geometry `framed`). Signing ÷ render (≤ 0.05): not measured here (see
 *     signingRatio below: the signing work adds it).
 *  2. lookup p95 with 100 000 releases indexed ÷ with 1 000: target ≤ 1.5. The same queries each time (the real edited
 *     copies, unrelated clips, and noisy copies of synthetic releases), each run twice. The synthetic releases are
 *     made by synthesize(): 10–30 s each; the picture a random walk of 64-bit hashes in shots of 2–8 s (a new random
 *     hash per shot, then 0–3 bits flipped a frame), the central window its own walk; the sound a walk of 32-bit values
 *     (5–9 bits flipped a value, a new random value now and then), with a silent stretch in one in five. Indexed in
 *     batches of 1 000 with indexReleases.
 *  3. recall over the edited copies (test/helpers/fingerprint-fixtures.ts: 3 released clips, 12 edits) at 100 000
 *     releases: target ≥ 0.95; false matches (a copy matched to another release, an unrelated clip matched at all, among
 *     the generated clip D and ../shared/media when present): target 0.
 */

/**
 * `-- --lookup-only`: part 2 alone, with synthetic queries only (noisy copies of indexed synthetic releases, and
 * synthetic releases never indexed): no render, no clips to fingerprint.
 */
const LOOKUP_ONLY = process.argv.includes('--lookup-only');
/**
 * `-- --at-1000`: the lookups at 1 000 releases only (recall and false matches there), without building the 100 000
 * (a quick look: building them takes minutes). The 100 000 line then says it was not measured. Before the local
 * FerretDB was built with its `_id` index in use (infra/local/install.sh), every `_id` read scanned its collection and
 * the 100 000 could not be built in hours.
 */
const AT_1000_ONLY = process.argv.includes('--at-1000');

const SECONDS = 60;
const TOTAL = 100_000;
const FIRST = 1_000;
const BATCH = 1_000;
const REPEAT = 2;

/** mulberry32: seeded, so every run indexes the same synthetic releases. */
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

const u32 = (next: () => number) => (next() * 2 ** 32) >>> 0;
const hex = (hi: number, lo: number) => hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');

function flip(pair: [number, number], bits: number, next: () => number): [number, number] {
  let [hi, lo] = pair;
  for (let k = 0; k < bits; k += 1) {
    const bit = Math.floor(next() * 64);
    if (bit < 32) hi = (hi ^ (1 << bit)) >>> 0;
    else lo = (lo ^ (1 << (bit - 32))) >>> 0;
  }
  return [hi, lo];
}

function pictureWalk(frames: number, next: () => number): string[] {
  const out: string[] = [];
  let shotLeft = 0;
  let pair: [number, number] = [0, 0];
  for (let i = 0; i < frames; i += 1) {
    if (shotLeft <= 0) {
      pair = [u32(next), u32(next)];
      shotLeft = Math.round((2 + next() * 6) * PICTURE_FPS);
    }
    pair = flip(pair, Math.floor(next() * 4), next);
    shotLeft -= 1;
    out.push(hex(pair[0], pair[1]));
  }
  return out;
}

export function synthesize(seed: number): MediaFingerprint {
  const next = random(seed);
  const seconds = 10 + next() * 20;
  const frames = Math.floor(seconds * PICTURE_FPS);
  const count = Math.floor((seconds - 2.7) * SOUND_RATE);
  const values: number[] = [];
  let value = u32(next);
  const silentFrom = next() < 0.2 ? Math.floor(next() * count) : -1;
  for (let i = 0; i < count; i += 1) {
    if (silentFrom >= 0 && i >= silentFrom && i < silentFrom + 16) values.push(0x256df977);
    else {
      if (next() < 0.05) value = u32(next);
      else for (let k = 5 + Math.floor(next() * 5); k > 0; k -= 1) value = (value ^ (1 << Math.floor(next() * 32))) >>> 0;
      values.push(value);
    }
  }
  return { version: 1, durationSeconds: seconds, picture: { fps: PICTURE_FPS, hashes: pictureWalk(frames, next), centre: pictureWalk(frames, next) }, sound: { rate: SOUND_RATE, values } };
}

/** A synthetic copy: the release re-encoded (2–6 bits of each hash, 1 in 5 sound values a bit or two). */
function noisyCopy(fp: MediaFingerprint, seed: number): MediaFingerprint {
  const next = random(seed);
  const pic = fp.picture!;
  const noisy = (list: string[]) => list.map((h) => {
    const [hi, lo] = flip([parseInt(h.slice(0, 8), 16) >>> 0, parseInt(h.slice(8), 16) >>> 0], 2 + Math.floor(next() * 5), next);
    return hex(hi, lo);
  });
  return {
    ...fp,
    picture: { ...pic, hashes: noisy(pic.hashes), centre: noisy(pic.centre) },
    sound: fp.sound && { ...fp.sound, values: fp.sound.values.map((v) => (next() < 0.2 ? (v ^ (1 << Math.floor(next() * 32))) >>> 0 : v)) },
  };
}

function synthetic(from: number, to: number): ReleaseToIndex[] {
  const out: ReleaseToIndex[] = [];
  for (let n = from; n < to; n += 1) {
    out.push({ releaseId: `synthetic-${n}`, campaignId: `campaign-${n % 50}`, releasedAt: new Date(Date.UTC(2026, 0, 1) + n * 60_000), renders: { source: synthesize(n + 1) } });
  }
  return out;
}

async function fingerprintOf(path: string, limits: RunLimits, work: string): Promise<MediaFingerprint> {
  const info = await probe(path, limits);
  const dir = await mkdtemp(join(work, 'fp-'));
  try {
    return await fingerprintFile(path, { hasVideo: info.video !== null, hasAudio: info.audio !== null, durationSeconds: info.durationSeconds }, dir, limits);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function p95(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!;
}

interface Query {
  name: string;
  fp: MediaFingerprint;
  /** The release it comes from, or null for an unrelated clip. */
  of: string | null;
  counts: boolean;
}

/** Runs every query REPEAT times: the lookup times, the copies found, the false matches. */
async function lookups(db: Database, queries: Query[]): Promise<{ p95: number; median: number; found: number; copies: number; falseMatches: string[] }> {
  const times: number[] = [];
  let found = 0;
  let copies = 0;
  const falseMatches: string[] = [];
  for (let r = 0; r < REPEAT; r += 1) {
    for (const q of queries) {
      const start = process.hrtime.bigint();
      const matches = await findMatches(db, q.fp);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (r > 0) continue;
      if (q.counts) {
        copies += 1;
        if (matches.some((m) => m.releaseId === q.of)) found += 1;
      }
      for (const m of matches) if (m.releaseId !== q.of) falseMatches.push(`${q.name} → ${m.releaseId}`);
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { p95: p95(times), median: sorted[Math.floor(sorted.length / 2)]!, found, copies, falseMatches };
}

/** Signing ÷ render (target ≤ 0.05): the signing work (C2PA) measures it here, on the same renders. */
async function main(): Promise<void> {
  const bench = await startBenchServices();
  const dir = await mkdtemp(join(tmpdir(), 'solidarity-verify-bench-'));
  const config = loadConfig({ ...bench.env, NODE_ENV: 'development', WORK_DIR: dir, LOG_LEVEL: 'warn' });
  const limits = runLimits(config);
  const db = await connectDatabase(config.mongo.url);
  let failed: boolean | undefined;
  try {
    let fingerprintRatio = NaN;
    let signingRatio = NaN;
    const queries: Query[] = [];
    if (!LOOKUP_ONLY) {
      // 1. Fingerprint + index ÷ render, 60 s 1080p.
      process.stdout.write(`making a ${SECONDS} s 1080p master…\n`);
      const master = join(dir, 'master.mp4');
      await run('nice', ['-n', '10', 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-y',
        '-f', 'lavfi', '-i', `testsrc2=duration=${SECONDS}:size=1920x1080:rate=30`,
        '-f', 'lavfi', '-i', `aevalsrc=0.4*sin(2*PI*220*pow(2\\,mod(floor(t*4)*5+floor(t*0.37)*3\\,12)/12)*t):s=48000:d=${SECONDS}`,
        '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', master]);
      const out = await mkdtemp(join(dir, 'release-'));
      const plan: ReleasePlan = { masterPath: master, outDir: out, master: { width: 1920, height: 1080 }, fps: 30, posterTime: 1, captions: [] };
      let files: Record<string, string> = {};
      const renderSeconds = await timed(async () => {
        files = await renderRelease(plan, limits);
      });
      const fingerprintSeconds = await timed(async () => {
        const fp = await fingerprintOf(files.source!, limits, dir);
        await indexRelease(db, { releaseId: 'release-60s', campaignId: 'bench', releasedAt: new Date(), renders: { source: fp } });
      });
      fingerprintRatio = fingerprintSeconds / renderSeconds;
      // Signing every render and poster of the set, as the release job does (its C2PA manifest, the bench's identity).
      const key = readSigningMaterial(config.provenance);
      const signingSeconds = await timed(async () => {
        for (const [name, path] of Object.entries(files)) {
          const kind = name.startsWith('poster-') ? 'poster' : 'video';
          const shape = name.replace(/^poster-/, '').split('-')[0]!;
          await signFile(path, releaseManifest({ campaign: 'Bench', releaseId: 'release-60s', fileName: basename(path), kind, captionLanguage: null, language: 'en', published: '2026-12-07', shape, watermark: false, endCard: false, faceMasking: false, voiceDisguised: false, pictureReplaced: false, creditedOrganisation: null }), key);
        }
      });
      signingRatio = signingSeconds / renderSeconds;
      process.stdout.write(`release render ${renderSeconds.toFixed(1)} s; fingerprint + index ${fingerprintSeconds.toFixed(1)} s; signing ${Object.keys(files).length} files ${signingSeconds.toFixed(2)} s\n`);

      // The real clips: released, their edits and the unrelated clips (the same as test/integration/fingerprint.test.ts).
      process.stdout.write('fingerprinting the generated clips and their edits…\n');
      for (const name of ['A', 'B', 'C'] as const) {
        const fp = await fingerprintOf(await sourceClip(name), limits, dir);
        await indexRelease(db, { releaseId: `release-${name}`, campaignId: 'bench', releasedAt: new Date(), renders: { source: fp } });
      }
      const edits: Edit[] = [
        ...(await editsOf('A')),
        ...(await editsOf('B', ['360p at a low bitrate', '9:16 re-crop', 'a logo over the picture'])),
        ...(await editsOf('C', ['360p at a low bitrate', 'a logo over the picture', '5 s cut from the middle'])),
      ];
      for (const edit of edits) queries.push({ name: `${edit.of} ${edit.name}`, fp: await fingerprintOf(edit.path, limits, dir), of: `release-${edit.of}`, counts: true });
      queries.push({ name: 'D (never released)', fp: await fingerprintOf(await sourceClip('D'), limits, dir), of: null, counts: false });
      const media = process.env.SOLIDARITY_MEDIA_DIR ?? join(__dirname, '..', '..', '..', '..', 'shared', 'media');
      if (existsSync(media)) {
        for (const file of readdirSync(media, { recursive: true, encoding: 'utf8' }).sort()) {
          const path = join(media, file);
          if (!statSync(path).isFile() || /\.(md|tsv|srt|vtt|ass)$/i.test(file)) continue;
          const fp = await fingerprintOf(path, limits, dir).catch(() => null);
          if (fp && fp.durationSeconds >= 4) queries.push({ name: file, fp, of: null, counts: false });
        }
      }
    }
    // Noisy copies of synthetic releases among the first 1 000 (not counted in the recall of the edits).
    for (let n = 0; n < 10; n += 1) queries.push({ name: `synthetic copy ${n * 97}`, fp: noisyCopy(synthesize(n * 97 + 1), n), of: `synthetic-${n * 97}`, counts: LOOKUP_ONLY });
    if (LOOKUP_ONLY) for (let n = 0; n < 5; n += 1) queries.push({ name: `synthetic never indexed ${n}`, fp: synthesize(TOTAL + 1000 + n), of: null, counts: false });

    // 2. Lookups at 1 000, then at 100 000.
    await indexReleases(db, synthetic(0, FIRST - 4));
    const small = await lookups(db, queries);
    process.stdout.write(`${FIRST} releases: lookup p95 ${small.p95.toFixed(0)} ms, median ${small.median.toFixed(0)} ms (${queries.length} queries × ${REPEAT})\n`);
    const building = process.hrtime.bigint();
    for (let from = FIRST - 4; !AT_1000_ONLY && from < TOTAL - 4; from += BATCH) {
      await indexReleases(db, synthetic(from, Math.min(TOTAL - 4, from + BATCH)));
      if ((from + BATCH) % 10_000 < BATCH) process.stdout.write(`  indexed ${from + BATCH + 4} (${(Number(process.hrtime.bigint() - building) / 1e9).toFixed(0)} s)\n`);
    }
    const postings = await db.fingerprintPostings.estimatedDocumentCount();
    const stops = await db.fingerprintPostings.countDocuments({ stop: true });
    process.stdout.write(`${await db.releaseFingerprints.estimatedDocumentCount()} releases indexed, ${postings} postings (${stops} stop words)\n`);
    const large = AT_1000_ONLY ? small : await lookups(db, queries);
    const at = AT_1000_ONLY ? FIRST : TOTAL;
    if (!AT_1000_ONLY) process.stdout.write(`${TOTAL} releases: lookup p95 ${large.p95.toFixed(0)} ms, median ${large.median.toFixed(0)} ms\n`);

    const lookupRatio = AT_1000_ONLY ? NaN : large.p95 / small.p95;
    const recall = large.found / large.copies;
    process.stdout.write('\n');
    process.stdout.write(LOOKUP_ONLY ? `${'fingerprint + index ÷ release render'.padEnd(58)} not measured (--lookup-only)\n` : `${formatRatio('fingerprint + index ÷ release render (60 s 1080p)', fingerprintRatio, '≤ 0.10')}\n`);
    process.stdout.write(LOOKUP_ONLY ? `${'signing ÷ release render'.padEnd(58)} not measured (--lookup-only)\n` : `${formatRatio('signing ÷ release render (every render and poster)', signingRatio, '≤ 0.05')}\n`);
    process.stdout.write(AT_1000_ONLY ? `${`lookup p95 at ${TOTAL} ÷ at ${FIRST} releases`.padEnd(58)} not measured (--at-1000)\n` : `${formatRatio(`lookup p95 at ${TOTAL} ÷ at ${FIRST} releases`, lookupRatio, '≤ 1.5')}\n`);
    process.stdout.write(`${formatRatio(`recall over ${large.copies} ${LOOKUP_ONLY ? 'synthetic noisy' : 'edited'} copies (at ${at})`, recall, '≥ 0.95')}\n`);
    process.stdout.write(`${formatRatio(`false matches (${queries.length} queries, at ${at})`, large.falseMatches.length, '0')}\n`);
    for (const f of large.falseMatches) process.stdout.write(`  false match: ${f}\n`);
    if (small.found !== small.copies) process.stdout.write(`  (at ${FIRST}: ${small.found}/${small.copies} found)\n`);
    failed = !((LOOKUP_ONLY || (fingerprintRatio <= 0.1 && signingRatio <= 0.05)) && (AT_1000_ONLY || lookupRatio <= 1.5) && recall >= 0.95 && large.falseMatches.length === 0);
  } finally {
    await db.close();
    await bench.stop();
    await rm(dir, { recursive: true, force: true });
  }
  process.exitCode = failed === false ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:verify: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

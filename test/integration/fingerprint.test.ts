import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase, type Database } from '../../shared/db';
import { loadConfig } from '../../shared/config';
import { fingerprintFile } from '../../worker/steps/fingerprint.step';
import { probe } from '../../worker/steps/probe.step';
import { alignPicture, alignSound, isMatch, PICTURE_MATCH, SOUND_MATCH, type Range } from '../../shared/provenance/align';
import { findMatches, indexRelease, indexReleases, POSTING_CAP, removeFromIndex, type Match } from '../../shared/provenance/fingerprint-index';
import type { MediaFingerprint } from '../../shared/provenance/fingerprint';
import { editsOf, sourceClip, type Edit } from '../helpers/fingerprint-fixtures';
import { testEnv } from '../helpers/test-env';

/**
 * Content fingerprints against real ffmpeg and the real database: three generated clips are released (indexed); the
 * edits a platform or a person makes are each found with the right release and the right changed ranges (±1 s), and
 * nothing unrelated is ever found (the clips among themselves, an unreleased one, and ../shared/media when present).
 */

const limits = { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', niceness: 0, timeoutSeconds: 120 };
const MEDIA = process.env.SOLIDARITY_MEDIA_DIR ?? join(__dirname, '..', '..', '..', 'shared', 'media');
const TOLERANCE = 1;

let db: Database;
let work: string;
const released: Record<string, MediaFingerprint> = {};
const table: string[] = [];

async function fingerprint(path: string): Promise<MediaFingerprint> {
  const info = await probe(path, limits);
  const dir = await mkdtemp(join(work, 'job-'));
  try {
    return await fingerprintFile(path, { hasVideo: info.video !== null, hasAudio: info.audio !== null, durationSeconds: info.durationSeconds }, dir, limits);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function near(actual: Range[], expected: Array<[number, number]>): boolean {
  return actual.length === expected.length && actual.every((a, i) => Math.abs(a.start - expected[i]![0]) <= TOLERANCE && Math.abs(a.end - expected[i]![1]) <= TOLERANCE);
}

const show = (ranges: Range[] | undefined) => (ranges ?? []).map((r) => `${r.start.toFixed(1)}–${r.end.toFixed(1)}`).join(' ') || '·';

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fingerprint-test-'));
  db = await connectDatabase(loadConfig(testEnv()).mongo.url);
  for (const name of ['A', 'B', 'C'] as const) {
    released[name] = await fingerprint(await sourceClip(name));
    await indexRelease(db, { releaseId: `release-${name}`, campaignId: 'demo', releasedAt: new Date('2026-12-01T12:00:00Z'), renders: { source: released[name] } });
  }
  // A retry adds nothing twice.
  await indexRelease(db, { releaseId: 'release-A', campaignId: 'demo', releasedAt: new Date('2026-12-01T12:00:00Z'), renders: { source: released.A! } });
}, 300_000);

afterAll(async () => {
  // The measurements the thresholds were chosen from (align.ts), for whoever changes them.
  if (table.length > 0) process.stdout.write(`fingerprint measurements\n${table.join('\n')}\n`);
  await db?.connection.db?.dropDatabase();
  await db?.close();
  await rm(work, { recursive: true, force: true });
});

describe('fingerprints of released clips', () => {
  test('when a release is indexed twice, then no posting names it twice', async () => {
    const postings = await db.fingerprintPostings.find({ ids: 'release-A' }).lean();
    expect(postings.length).toBeGreaterThan(20);
    for (const posting of postings) expect(posting.ids.filter((id) => id === 'release-A')).toHaveLength(1);
    expect(await db.releaseFingerprints.countDocuments()).toBe(3);
  });

  const cases: Array<[string, readonly string[]]> = [
    ['A', ['360p at a low bitrate', '9:16 re-crop', 'a logo over the picture', '5 s cut from the middle', 'spliced between other footage', 'sound replaced by another clip\'s']],
    ['B', ['360p at a low bitrate', '9:16 re-crop', 'a logo over the picture', 'the vertical release render, re-encoded']],
    ['C', ['360p at a low bitrate', 'a logo over the picture', '5 s cut from the middle']],
  ];

  test('when an edited copy is looked up, then its release is found with what was kept, cut, foreign and re-voiced (±1 s)', async () => {
    const failures: string[] = [];
    for (const [name, which] of cases) {
      for (const edit of await editsOf(name as 'A', which)) {
        const started = Date.now();
        const copy = await fingerprint(edit.path);
        const matches = await findMatches(db, copy);
        const match = matches.find((m) => m.releaseId === `release-${name}`);
        table.push(describeCase(edit, match, matches, Date.now() - started));
        failures.push(...check(edit, copy, match, matches));
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);

  test('when unrelated clips are compared, then nothing matches: the releases among themselves, an unreleased clip, the media corpus', async () => {
    const others: Array<[string, MediaFingerprint]> = [['D (never released)', await fingerprint(await sourceClip('D'))]];
    if (existsSync(MEDIA)) {
      for (const file of readdirSync(MEDIA, { recursive: true, encoding: 'utf8' }).sort()) {
        const path = join(MEDIA, file);
        if (!statSync(path).isFile() || /\.(md|tsv|srt|vtt|ass)$/i.test(file)) continue;
        try {
          const fp = await fingerprint(path);
          if (fp.durationSeconds >= PICTURE_MATCH.minMatchSeconds) others.push([file, fp]);
        } catch {
          // A file the pipeline refuses (broken, a playlist…) has no fingerprint to compare.
        }
      }
    }
    const found: string[] = [];
    for (const [name, fp] of others) for (const m of await findMatches(db, fp)) found.push(`${name} → ${m.releaseId}`);
    // Every pair, each track on its own, whatever the index would have proposed.
    const all: Array<[string, MediaFingerprint]> = [...Object.entries(released), ...others];
    let closest = 0;
    for (const [x, a] of all) {
      for (const [y, b] of all) {
        if (x === y) continue;
        const picture = alignPicture(a, b);
        const sound = alignSound(a, b);
        closest = Math.max(closest, picture?.matchedSeconds ?? 0, sound?.matchedSeconds ?? 0);
        if (isMatch(picture, PICTURE_MATCH) || isMatch(sound, SOUND_MATCH)) found.push(`${x} ~ ${y}`);
      }
    }
    table.push(`unrelated: ${all.length} clips, ${all.length * (all.length - 1)} ordered pairs, longest run matched ${closest.toFixed(2)} s`);
    expect(found).toEqual([]);
  }, 300_000);

  test('when a release is removed from the index, then its copies are no longer found and no posting names it', async () => {
    const [edit] = await editsOf('B', ['360p at a low bitrate']);
    const copy = await fingerprint(edit!.path);
    expect((await findMatches(db, copy)).map((m) => m.releaseId)).toEqual(['release-B']);
    await removeFromIndex(db, 'release-B');
    await removeFromIndex(db, 'release-B'); // a retry is harmless
    expect(await findMatches(db, copy)).toEqual([]);
    expect(await db.fingerprintPostings.countDocuments({ ids: 'release-B' })).toBe(0);
    expect(await db.releaseFingerprints.exists({ _id: 'release-B' })).toBeNull();
  }, 120_000);

  test('when more than POSTING_CAP releases share a key, then it becomes a stop word: emptied, gaining no ids after, read as nothing', async () => {
    // Sound only: one value every release has (the shared key), then values of each release's own.
    const shared = 0x5eed5eed;
    const release = (n: number): MediaFingerprint => ({
      version: 1,
      durationSeconds: 20,
      picture: null,
      sound: { rate: 8, values: Array.from({ length: 160 }, (_, i) => (i === 0 ? shared : (0x10000000 + n * 1000 + i) >>> 0)) },
    });
    const key = `s:${shared.toString(16)}`;
    for (let n = 0; n < POSTING_CAP; n += 1) await indexRelease(db, { releaseId: `stop-${n}`, campaignId: 'c', releasedAt: new Date(), renders: { source: release(n) } });
    expect(await db.fingerprintPostings.findById(key).lean()).toMatchObject({ stop: true, ids: [] });
    await indexReleases(db, [POSTING_CAP, POSTING_CAP + 1].map((n) => ({ releaseId: `stop-${n}`, campaignId: 'c', releasedAt: new Date(), renders: { source: release(n) } })));
    expect(await db.fingerprintPostings.findById(key).lean()).toMatchObject({ stop: true, ids: [] });
    // A posting that gained ids while it became a stop word (a race) is still read as nothing.
    await db.fingerprintPostings.updateOne({ _id: key }, { $set: { ids: ['stop-1'] } });
    const query = release(9999);
    query.sound!.values = Array.from({ length: 160 }, (_, i) => (i % 2 === 0 ? shared : (0x20000000 + i) >>> 0));
    expect(await findMatches(db, query)).toEqual([]);
    for (let n = 0; n < POSTING_CAP + 2; n += 1) await removeFromIndex(db, `stop-${n}`);
  }, 120_000);
});

function describeCase(edit: Edit, match: Match | undefined, matches: Match[], ms: number): string {
  const p = match?.picture;
  const s = match?.sound;
  return (
    `${edit.of} ${edit.name.padEnd(32)} ${match ? 'found' : 'MISSED'} (${matches.length} match) ${ms} ms | picture ${p?.matchedSeconds.toFixed(1) ?? '-'} s kept ${show(p?.kept)} cut ${show(p?.cut)} ` +
    `foreign ${show(p?.foreign)} | sound ${s?.matchedSeconds.toFixed(1) ?? '-'} s kept ${show(s?.kept)} | revoiced ${show(match?.revoiced)}`
  );
}

function check(edit: Edit, copy: MediaFingerprint, match: Match | undefined, matches: Match[]): string[] {
  const where = `${edit.of} ${edit.name}`;
  if (!match) return [`${where}: not found`];
  const out: string[] = [];
  if (matches.length !== 1) out.push(`${where}: ${matches.length} matches (${matches.map((m) => m.releaseId).join(', ')})`);
  const p = match.picture!;
  if (!near(p.kept, edit.picture.kept)) out.push(`${where}: picture kept ${show(p.kept)}`);
  if (!near(p.cut, edit.picture.cut)) out.push(`${where}: picture cut ${show(p.cut)}`);
  if (!near(p.foreign, edit.picture.foreign)) out.push(`${where}: picture foreign ${show(p.foreign)}`);
  if (p.replaced.length > 0) out.push(`${where}: picture replaced ${show(p.replaced)}`);
  // The sound's values span the file (SOUND_MATCH.startSeconds places them), so its ranges are the edit's own.
  if (edit.sound) {
    if (!near(match.sound!.kept, edit.sound.kept)) out.push(`${where}: sound kept ${show(match.sound!.kept)}, expected ${edit.sound.kept.map(([a, b]) => `${a}–${b}`).join(' ')}`);
  } else if (match.sound && match.sound.kept.length > 0) out.push(`${where}: sound kept ${show(match.sound.kept)}`);
  if (!near(match.revoiced, edit.revoiced)) out.push(`${where}: revoiced ${show(match.revoiced)}`);
  return out;
}

import type { Database } from '../db';
import type { FingerprintPosting, ReleaseFingerprintRecord, StoredRender } from '../models/fingerprint.model';
import { alignPicture, alignSound, isMatch, PICTURE_MATCH, revoiced, SOUND_MATCH, type Range, type TrackTimeline } from './align';
import { FLAT_HASH, type MediaFingerprint } from './fingerprint';

/**
 * The index of released clips' fingerprints: a copy found on a platform (signature stripped, encoded again) is
 * looked up by its content. A lookup reads the copy's postings one `_id` each (at most POSTING_CAP ids each), then at most
 * MAX_CANDIDATES stored fingerprints by `_id`, and aligns the copy against each (align.ts): its cost does not grow with
 * the number of releases (test/bench/verify.bench.ts measures it at 1 000 and 100 000). Every read and write has a filter
 * of one `_id` and nothing else: FerretDB 1.24 (SQLite) reads by its `_id` index then only — and only when built with
 * its index in use (infra/local/install.sh; as published it scanned the collection even for that). Measured
 * (2026-12-07, 2-core machine, bench:verify): lookup p95 197 ms at 100 000 releases (5.9 million postings) ÷ 201 ms
 * at 1 000 = 0.98.
 *
 * Exported API
 *  - `indexRelease(db, release: ReleaseToIndex): Promise<void>` — adds one release (its renders by shape: `source`,
 *    `square`, `vertical`…). Idempotent: a retry adds nothing twice; indexing the same id again replaces its
 *    fingerprints and takes it out of the postings it no longer has.
 *  - `indexReleases(db, batch: ReleaseToIndex[]): Promise<void>` — the same for many at once, in bulk (a re-index after
 *    a restore, the bench); meant to run alone (two bulk runs at once may let a posting list pass its cap a little).
 *  - `removeFromIndex(db, releaseId): Promise<void>` — a withdrawn clip leaves the index (postings, then its record);
 *    a lookup also ignores posting ids without a record.
 *  - `findMatches(db, query: MediaFingerprint): Promise<Match[]>` — the releases the copy comes from, best first, each
 *    with the render (`shape`) it is closest to and what happened to its picture and sound (align.ts `TrackTimeline`,
 *    null when the copy or the release has no such track) and where it was re-voiced.
 *  - `postingKeys(fp, forIndex)` — the keys a fingerprint is filed under (all of them for a lookup, a sample for the index).
 */

export interface ReleaseToIndex {
  releaseId: string;
  campaignId: string;
  releasedAt: Date;
  renders: Record<string, MediaFingerprint>;
}

export interface Match {
  releaseId: string;
  campaignId: string;
  releasedAt: Date;
  shape: string;
  /** Null when the copy or the release has no picture; a timeline that is no match has `matchedSeconds` under PICTURE_MATCH.minMatchSeconds. */
  picture: TrackTimeline | null;
  sound: TrackTimeline | null;
  /** Release time where the copy keeps the picture but plays other sound. */
  revoiced: Range[];
}

/** A key more releases than this share is a stop word: it tells nothing and would make lookups read long lists. */
export const POSTING_CAP = 64;
/** Releases aligned per lookup at most (the ones sharing most keys with the copy). */
export const MAX_CANDIDATES = 24;
/**
 * The index files one picture hash every 2 s (every 8th frame: both halves, both windows) and one sound value a second
 * (every 8th): about 3 keys a second of clip. A copy keeps most sound values exactly, and half of a picture hash on
 * 15–90 % of its frames (measured), while the lookup tries every one of the copy's: enough hits, and a small index.
 */
export const INDEX_PICTURE_EVERY = 8;
export const INDEX_SOUND_EVERY = 8;
const CHUNK = 1000;

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

/**
 * Keys: `p:h:` / `p:l:` + the high / low 32 bits of a picture hash (a copy keeps one half exactly on many frames even
 * when the whole hash moved a few bits), `s:` + a chromaprint value (re-encoded sound keeps most values exactly).
 * Flat frames and steady sound are never keys. The index takes a sample (INDEX_*_EVERY); a lookup takes every element.
 */
export function postingKeys(fp: MediaFingerprint, forIndex: boolean): string[] {
  const keys = new Set<string>();
  const pictureEvery = forIndex ? INDEX_PICTURE_EVERY : 1;
  const soundEvery = forIndex ? INDEX_SOUND_EVERY : 1;
  if (fp.picture) {
    for (const list of [fp.picture.hashes, fp.picture.centre]) {
      for (let i = 0; i < list.length; i += pictureEvery) {
        const hash = list[i]!;
        if (hash === FLAT_HASH) continue;
        keys.add(`p:h:${hash.slice(0, 8)}`);
        keys.add(`p:l:${hash.slice(8, 16)}`);
      }
    }
  }
  if (fp.sound) {
    const v = fp.sound.values;
    for (let i = 0; i < v.length; i += soundEvery) {
      if (v[i] === v[i - 1] || v[i] === v[i + 1]) continue; // steady sound (silence, a held tone)
      keys.add(`s:${hex8(v[i]!)}`);
    }
  }
  return [...keys];
}

function toStored(shape: string, fp: MediaFingerprint): StoredRender {
  const hashes = (list: string[]) => Buffer.from(list.join(''), 'hex');
  let values: Buffer | null = null;
  if (fp.sound) {
    values = Buffer.alloc(fp.sound.values.length * 4);
    fp.sound.values.forEach((v, i) => values!.writeUInt32BE(v >>> 0, i * 4));
  }
  return {
    shape,
    durationSeconds: fp.durationSeconds,
    fps: fp.picture?.fps ?? null,
    hashes: fp.picture ? hashes(fp.picture.hashes) : null,
    centre: fp.picture ? hashes(fp.picture.centre) : null,
    rate: fp.sound?.rate ?? null,
    values,
  };
}

/** A binary field as read back: a Buffer, or the driver's Binary. */
function bytes(value: unknown): Buffer | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value;
  const binary = value as { buffer?: Uint8Array; value?: () => Uint8Array };
  if (binary.buffer instanceof Uint8Array) return Buffer.from(binary.buffer.buffer, binary.buffer.byteOffset, binary.buffer.byteLength);
  throw new Error('a stored fingerprint field is not binary');
}

export function fromStored(render: StoredRender): MediaFingerprint {
  const hashes = bytes(render.hashes);
  const centre = bytes(render.centre);
  const values = bytes(render.values);
  const split = (b: Buffer) => Array.from({ length: b.length / 8 }, (_, i) => b.toString('hex', i * 8, i * 8 + 8));
  return {
    version: 1,
    durationSeconds: render.durationSeconds,
    picture: hashes && centre && render.fps ? { fps: render.fps, hashes: split(hashes), centre: split(centre) } : null,
    sound: values && render.rate ? { rate: render.rate, values: Array.from({ length: values.length / 4 }, (_, i) => values.readUInt32BE(i * 4)) } : null,
  };
}

function recordOf(release: ReleaseToIndex): ReleaseFingerprintRecord {
  const keys = new Set<string>();
  const renders: StoredRender[] = [];
  for (const [shape, fp] of Object.entries(release.renders)) {
    renders.push(toStored(shape, fp));
    for (const key of postingKeys(fp, true)) keys.add(key);
  }
  return { _id: release.releaseId, campaignId: release.campaignId, releasedAt: release.releasedAt, renders, keys: [...keys] };
}

function chunks<T>(list: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

const isDuplicate = (error: unknown) => (error as { code?: number }).code === 11000;

/** Requests in flight at once for the one-`_id` operations below. */
const PARALLEL = 16;

/** Runs `work` on every item, PARALLEL at a time. */
async function eachLimited<T>(items: T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, lane));
}

/**
 * Adds each key's ids to its posting. Only operations whose filter is one `_id` and nothing else: FerretDB 1.24 reads
 * by its `_id` index only then (with anything more, `_id: {$in: […]}` or `{_id, stop}`, it reads the whole collection:
 * building 100 000 releases slowed from 75 s for the first 10 000 to 472 s for the next with `{_id, stop: false}`).
 * New keys go in by insertMany (unordered); a key that exists already is refused (duplicate `_id`) and gains the ids
 * by an update of that one posting, which then becomes a stop word if it reached the cap; a stop word gains nothing
 * (its ids are cleared again if an update raced with it becoming one).
 */
async function addPostings(db: Database, postings: Map<string, string[]>): Promise<void> {
  for (const part of chunks([...postings.keys()])) {
    const docs = part.map((key) => {
      const ids = postings.get(key)!;
      return ids.length >= POSTING_CAP ? { _id: key, ids: [], stop: true } : { _id: key, ids, stop: false };
    });
    let existing: string[] = [];
    try {
      await db.fingerprintPostings.insertMany(docs, { ordered: false, lean: true });
    } catch (error) {
      const failed = (error as { writeErrors?: Array<{ index?: number; code?: number; err?: { index?: number; code?: number } }> }).writeErrors ?? [];
      const duplicates = failed.filter((e) => (e.code ?? e.err?.code) === 11000);
      if (duplicates.length === 0 || duplicates.length !== failed.length) {
        if (!isDuplicate(error) || failed.length > 0) throw error;
      }
      existing = duplicates.map((e) => docs[e.index ?? e.err?.index ?? -1]?._id).filter((key): key is string => typeof key === 'string');
    }
    await eachLimited(existing, async (key) => {
      const before = await db.fingerprintPostings.findById(key, { stop: 1 }).lean<Pick<FingerprintPosting, 'stop'>>();
      if (!before || before.stop) return;
      const after = await db.fingerprintPostings
        .findOneAndUpdate({ _id: key }, { $addToSet: { ids: { $each: postings.get(key)! } } }, { returnDocument: 'after' })
        .lean<Pick<FingerprintPosting, 'ids' | 'stop'>>();
      if (after && (after.stop ? after.ids.length > 0 : after.ids.length >= POSTING_CAP)) await db.fingerprintPostings.updateOne({ _id: key }, { $set: { stop: true, ids: [] } });
    });
  }
}

async function removePostings(db: Database, releaseId: string, keys: string[]): Promise<void> {
  await eachLimited(keys, (key) => db.fingerprintPostings.updateOne({ _id: key }, { $pull: { ids: releaseId } }));
}

export async function indexRelease(db: Database, release: ReleaseToIndex): Promise<void> {
  const record = recordOf(release);
  const before = await db.releaseFingerprints.findById(record._id, { keys: 1 }).lean<Pick<ReleaseFingerprintRecord, 'keys'>>();
  // The record first: a posting never names a release the lookup cannot load (it would be skipped anyway).
  await db.releaseFingerprints.replaceOne({ _id: record._id }, record, { upsert: true });
  if (before) {
    const now = new Set(record.keys);
    await removePostings(db, record._id, before.keys.filter((key) => !now.has(key)));
  }
  await addPostings(db, new Map(record.keys.map((key) => [key, [record._id]])));
}

export async function indexReleases(db: Database, batch: ReleaseToIndex[]): Promise<void> {
  for (const part of chunks(batch)) {
    const records = part.map(recordOf);
    try {
      await db.releaseFingerprints.insertMany(records, { ordered: false, lean: true });
    } catch (error) {
      // Indexed before (a retry, a re-index): replaced whole, one by one.
      const failed = (error as { writeErrors?: Array<{ index?: number; err?: { index?: number } }> }).writeErrors ?? [];
      if (!isDuplicate(error) && failed.length === 0) throw error;
      const again = failed.map((e) => records[e.index ?? e.err?.index ?? -1]).filter((r): r is ReleaseFingerprintRecord => r !== undefined);
      await eachLimited(again, (record) => db.releaseFingerprints.replaceOne({ _id: record._id }, record, { upsert: true }));
    }
    const postings = new Map<string, string[]>();
    for (const record of records) {
      for (const key of record.keys) {
        const ids = postings.get(key);
        if (ids) ids.push(record._id);
        else postings.set(key, [record._id]);
      }
    }
    await addPostings(db, postings);
  }
}

export async function removeFromIndex(db: Database, releaseId: string): Promise<void> {
  const record = await db.releaseFingerprints.findById(releaseId, { keys: 1 }).lean<Pick<ReleaseFingerprintRecord, 'keys'>>();
  if (!record) return;
  // Postings first, then the record: a retry after a crash between the two still finds the keys.
  await removePostings(db, releaseId, record.keys);
  await db.releaseFingerprints.deleteOne({ _id: releaseId });
}

function score(t: TrackTimeline | null): number {
  return t?.matchedSeconds ?? 0;
}

export async function findMatches(db: Database, query: MediaFingerprint): Promise<Match[]> {
  const hits = new Map<string, number>();
  // One read per key, by `_id` (FerretDB scans for `$in`: see addPostings).
  await eachLimited(postingKeys(query, false), async (key) => {
    const posting = await db.fingerprintPostings.findById(key, { ids: 1, stop: 1 }).lean<Pick<FingerprintPosting, 'ids' | 'stop'>>();
    if (posting?.stop) return;
    for (const id of posting?.ids ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
  });
  const candidates = [...hits.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_CANDIDATES).map(([id]) => id);
  const records: Array<Omit<ReleaseFingerprintRecord, 'keys'>> = [];
  await eachLimited(candidates, async (id) => {
    const record = await db.releaseFingerprints.findById(id, { keys: 0 }).lean<Omit<ReleaseFingerprintRecord, 'keys'>>();
    if (record) records.push(record); // a posting of a release removed meanwhile names nothing
  });
  const matches: Match[] = [];
  for (const record of records) {
    let best: Match | null = null;
    for (const render of record.renders) {
      const release = fromStored(render);
      const picture = alignPicture(query, release);
      const sound = alignSound(query, release);
      const candidate: Match = { releaseId: record._id, campaignId: record.campaignId, releasedAt: record.releasedAt, shape: render.shape, picture, sound, revoiced: revoiced(picture, sound, release) };
      if (!best || score(picture) > score(best.picture) || (score(picture) === score(best.picture) && score(sound) > score(best.sound))) best = candidate;
    }
    if (best && (isMatch(best.picture, PICTURE_MATCH) || isMatch(best.sound, SOUND_MATCH))) matches.push(best);
  }
  return matches.sort((a, b) => score(b.picture) + score(b.sound) - (score(a.picture) + score(a.sound)));
}

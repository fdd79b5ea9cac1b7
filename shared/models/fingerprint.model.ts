import { Schema, type Connection, type Model } from 'mongoose';

/**
 * The fingerprint index (shared/provenance/fingerprint-index.ts). Everything is found by `_id` (FerretDB filters
 * `_id` well and sorts nothing in the database):
 *  - `release_fingerprints`, `_id` = the release id: the fingerprints of each released render (binary, compact), its
 *    campaign and release time, and the posting keys it was added to (so that it can be taken out again);
 *  - `fingerprint_postings`, `_id` = a key (`p:h:<8 hex>`, `p:l:<8 hex>` for the halves of a picture hash, `s:<8 hex>`
 *    for a chromaprint value): the releases that have it, at most POSTING_CAP; a key more releases share is a stop
 *    word (`stop`: true, list emptied), so a lookup never reads a long list.
 * Nothing personal is held: hashes of the released picture and sound, ids and dates.
 */

export interface StoredRender {
  shape: string;
  durationSeconds: number;
  /** Picture: 8 bytes a hash (big-endian), whole frame and central window; null without a picture. */
  fps: number | null;
  hashes: Buffer | null;
  centre: Buffer | null;
  /** Sound: 4 bytes a value (big-endian); null without sound. */
  rate: number | null;
  values: Buffer | null;
}

export interface ReleaseFingerprintRecord {
  _id: string;
  campaignId: string;
  releasedAt: Date;
  renders: StoredRender[];
  keys: string[];
}

export interface FingerprintPosting {
  _id: string;
  ids: string[];
  stop: boolean;
}

const renderSchema = new Schema<StoredRender>(
  {
    shape: { type: String, required: true },
    durationSeconds: { type: Number, required: true },
    fps: { type: Number, default: null },
    hashes: { type: Buffer, default: null },
    centre: { type: Buffer, default: null },
    rate: { type: Number, default: null },
    values: { type: Buffer, default: null },
  },
  { _id: false },
);

export const releaseFingerprintSchema = new Schema<ReleaseFingerprintRecord>(
  {
    _id: { type: String, required: true },
    campaignId: { type: String, required: true },
    releasedAt: { type: Date, required: true },
    renders: { type: [renderSchema], default: [] },
    keys: { type: [String], default: [] },
  },
  { collection: 'release_fingerprints', strict: 'throw', versionKey: false },
);
// A campaign's indexed releases (a re-index, a report); lookups go by _id only.
releaseFingerprintSchema.index({ campaignId: 1 });

export const fingerprintPostingSchema = new Schema<FingerprintPosting>(
  {
    _id: { type: String, required: true },
    ids: { type: [String], default: [] },
    stop: { type: Boolean, default: false },
  },
  { collection: 'fingerprint_postings', strict: 'throw', versionKey: false },
);

export type ReleaseFingerprintModel = Model<ReleaseFingerprintRecord>;
export type FingerprintPostingModel = Model<FingerprintPosting>;

export function fingerprintModels(connection: Connection): { releaseFingerprints: ReleaseFingerprintModel; fingerprintPostings: FingerprintPostingModel } {
  return {
    releaseFingerprints: connection.model<ReleaseFingerprintRecord>('ReleaseFingerprint', releaseFingerprintSchema),
    fingerprintPostings: connection.model<FingerprintPosting>('FingerprintPosting', fingerprintPostingSchema),
  };
}

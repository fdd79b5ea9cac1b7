import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { MediaInfo } from './media-info';
import type { SubmissionProtection } from '../protection/protection';
import { SUBMISSION_STATES, type SubmissionState, type TransitionName } from './submission-states';

/** An object this project wrote to S3. Keys come from shared/storage/keys.ts and never contain contributor data. */
export interface StoredObject {
  key: string;
  bytes: number;
  sha256: string;
  contentType: string;
}

export interface SubmissionConsent {
  version: number;
  language: string;
  /** Ids of the statements the contributor agreed to: all of that version's statements. */
  statements: string[];
  givenAt: Date;
}

export interface Rejection {
  /** Stable machine code, e.g. "media_too_long". */
  code: string;
  /** A moderator's rejection: the id of the campaign's reason template it used. */
  template?: string;
  /** Human reason, shown to the contributor and to moderators. */
  reason: string;
}

export interface HistoryEntry {
  transition: TransitionName;
  from: SubmissionState;
  to: SubmissionState;
  at: Date;
  /** Who moved it: "upload", "worker", "reconciler", "operator", later a moderator id. */
  by: string;
  reason?: string;
  /** The processing lease the move was made under (processing transitions only). */
  lease?: string;
}

/** A worker's hold on a submission while it processes it (see lease.ts): renewed by its heartbeat. */
export interface Lease {
  /** Random, opaque; also the folder of this attempt's outputs in S3. */
  id: string;
  expiresAt: Date;
}

export interface Processing {
  attempts: number;
  /** 0–100, for the status endpoint. */
  progress: number;
  startedAt: Date | null;
  /** Set by the worker while it works (with the lease's renewal). */
  heartbeatAt: Date | null;
  finishedAt: Date | null;
  lastError: string | null;
  /** Who holds the submission while it is `processing`; null in every other state. */
  lease: Lease | null;
}

/** What the release job made (shared/submissions/release.ts): set when it starts, completed when every output is stored. */
export interface ReleaseRecord {
  /** Output name → object under releases/<id>/: `source`, `square-be`, `poster-vertical`, `captions-be-srt`… */
  outputs: Record<string, StoredObject>;
  /** The caption languages rendered, in order. */
  languages: string[];
  /** Where the clip may go, from the consent its contributor gave (consent-scopes.ts); set at the finish. */
  uses: string[];
  /** Whether the organisation may be named in the suggested post text. */
  credit: boolean;
  startedAt: Date;
  finishedAt: Date | null;
  lastError: string | null;
}

/**
 * What the review queue knew of a clip when a moderator decided it (its entry is removed then): whether it was
 * sensitive and who had approved it. An undo puts the clip back with it (review-queue.ts, reviewEntryFor),
 * less the undoing moderator's own approval.
 */
export interface ReviewSnapshot {
  sensitive: boolean;
  approvals: Array<{ by: string; email: string; at: Date }>;
}

export interface Submission {
  _id: Types.ObjectId;
  campaignId: Types.ObjectId;
  status: SubmissionState;
  /** sha256 of the status token handed to the contributor; the token itself is never stored. */
  statusTokenHash: string;
  organisation: string;
  country: string;
  language: string;
  title: string;
  message: string;
  /** Personal data: stored for the campaign team only, never logged, erased with the submission. */
  contactEmail: string | null;
  /** The contributor asked for protection (their face, voice or place must not give them away): the clip needs two moderators' approvals. */
  protectionRequested?: boolean;
  /**
   * What protection means for this clip (shared/protection/protection.ts): its face hidden, its voice disguised,
   * its picture replaced by the campaign's card. Recorded with the consent; absent or null: none asked.
   */
  protection?: SubmissionProtection | null;
  /**
   * The version of the face track (0: none) the protected preview, captioned preview and poster were drawn with;
   * absent until they are. Its sound is then the disguised one, which later renders reuse (no factor needed), and
   * a render of an older version is never swapped in over it.
   */
  protectedRender?: { trackVersion: number; at: Date } | null;
  consent: SubmissionConsent;
  original: StoredObject;
  /** When the raw original (and the uploaded subtitle file) were deleted by the retention job; null while kept. */
  originalDeletedAt: Date | null;
  /**
   * When a rejected clip's outputs (preview, captioned preview, poster, clean subtitles, master) and caption
   * versions were deleted by the retention job, with its original; null while kept (and for other states).
   */
  mediaDeletedAt?: Date | null;
  /**
   * When a withdrawn or rejected clip's personal data (organisation, title, message, contact address) was
   * cleared (shared/submissions/retention.ts): at the takedown, or with a rejected clip's media; null while kept.
   */
  personalDataClearedAt?: Date | null;
  subtitles: StoredObject | null;
  /** The project's own description of the clip, set once probed. */
  media: MediaInfo | null;
  /** Keys of what the worker produced (preview, poster, captions…), by output name. */
  outputs: Record<string, StoredObject>;
  processing: Processing;
  /** Null until the release job starts. */
  release: ReleaseRecord | null;
  /** When a withdrawn clip's release objects and outputs were deleted (takedown job); null until then. */
  takenDownAt: Date | null;
  rejection: Rejection | null;
  /** The review queue's view of the clip at its last decision (absent before one). */
  review?: ReviewSnapshot | null;
  history: HistoryEntry[];
  createdAt: Date;
  updatedAt: Date;
}

const storedObjectSchema = new Schema<StoredObject>(
  {
    key: { type: String, required: true },
    bytes: { type: Number, required: true },
    sha256: { type: String, required: true },
    contentType: { type: String, required: true },
  },
  { _id: false },
);

export const submissionSchema = new Schema<Submission>(
  {
    campaignId: { type: Schema.Types.ObjectId, required: true },
    status: { type: String, enum: SUBMISSION_STATES, required: true },
    statusTokenHash: { type: String, required: true },
    organisation: { type: String, required: true },
    country: { type: String, required: true },
    language: { type: String, required: true },
    title: { type: String, required: true },
    message: { type: String, default: '' },
    contactEmail: { type: String, default: null },
    personalDataClearedAt: { type: Date, default: null },
    protectionRequested: { type: Boolean, default: false },
    protection: {
      type: new Schema<SubmissionProtection>(
        {
          face: { type: Boolean, required: true },
          voice: { type: Boolean, required: true },
          card: { type: Boolean, required: true },
          by: { type: String, enum: ['contributor', 'moderator'], required: true },
          at: { type: Date, required: true },
        },
        { _id: false },
      ),
      default: null,
    },
    protectedRender: {
      type: new Schema({ trackVersion: { type: Number, required: true }, at: { type: Date, required: true } }, { _id: false }),
      default: null,
    },
    consent: {
      type: new Schema<SubmissionConsent>(
        {
          version: { type: Number, required: true },
          language: { type: String, required: true },
          statements: { type: [String], required: true },
          givenAt: { type: Date, required: true },
        },
        { _id: false },
      ),
      required: true,
    },
    original: { type: storedObjectSchema, required: true },
    originalDeletedAt: { type: Date, default: null },
    mediaDeletedAt: { type: Date, default: null },
    subtitles: { type: storedObjectSchema, default: null },
    media: { type: Schema.Types.Mixed, default: null },
    outputs: { type: Map, of: storedObjectSchema, default: {} },
    processing: {
      type: new Schema<Processing>(
        {
          attempts: { type: Number, default: 0 },
          progress: { type: Number, default: 0 },
          startedAt: { type: Date, default: null },
          heartbeatAt: { type: Date, default: null },
          finishedAt: { type: Date, default: null },
          lastError: { type: String, default: null },
          lease: {
            type: new Schema<Lease>({ id: { type: String, required: true }, expiresAt: { type: Date, required: true } }, { _id: false }),
            default: null,
          },
        },
        { _id: false },
      ),
      default: () => ({}),
    },
    release: { type: Schema.Types.Mixed, default: null },
    review: { type: Schema.Types.Mixed, default: null },
    takenDownAt: { type: Date, default: null },
    rejection: {
      type: new Schema<Rejection>({ code: String, reason: String, template: { type: String } }, { _id: false }),
      default: null,
    },
    history: {
      type: [
        new Schema<HistoryEntry>(
          {
            transition: { type: String, required: true },
            from: { type: String, required: true },
            to: { type: String, required: true },
            at: { type: Date, required: true },
            by: { type: String, required: true },
            reason: { type: String },
            lease: { type: String },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
  },
  { timestamps: true, collection: 'submissions', strict: 'throw' },
);

// The reconciler and the operator CLI: submissions in a state, oldest first.
submissionSchema.index({ status: 1, updatedAt: 1 });
// A campaign's clips in a state, newest first (the moderators' queue itself is review-queue.ts).
submissionSchema.index({ campaignId: 1, status: 1, createdAt: -1 });

export type SubmissionModel = Model<Submission>;

export function submissionModel(connection: Connection): SubmissionModel {
  return connection.model<Submission>('Submission', submissionSchema);
}

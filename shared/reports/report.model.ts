import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { REPORT_STATES, type ReportState, type ReportTransition } from './report-states';

/**
 * An action report (issue 18): what a union did on a day of action, with up to 10 photos, each cleaned
 * (shared/images/clean-image.ts) before it is stored: the original is never stored. Never an exact place:
 * a city and a country code.
 */

export const PARTICIPANT_RANGES = ['1-9', '10-49', '50-99', '100-499', '500+'] as const;
export type ParticipantRange = (typeof PARTICIPANT_RANGES)[number];

export const REPORT_PHOTOS_MAX = 10;

/** What a moderator checks on each photo before approving a report (the same words as the clips' checklist where they overlap). */
export const PHOTO_CHECKS = ['faces', 'location', 'badges', 'plates', 'documents'] as const;
export type PhotoCheck = (typeof PHOTO_CHECKS)[number];

export interface ReportPhoto {
  /** Random id (16 hex), part of the photo's key and address. */
  id: string;
  /** The photo's place on the form (0–9): a photo sent again for the same place replaces it. */
  slot: number;
  key: string;
  contentType: 'image/jpeg' | 'image/png';
  bytes: number;
  width: number;
  height: number;
  sha256: string;
  /** Left out by a moderator: never counted, shown or exported; its object is removed. */
  excluded: boolean;
}

export interface ReportHistoryEntry {
  transition: ReportTransition;
  from: ReportState;
  to: ReportState;
  at: Date;
  /** "contributor" or a staff user's id. */
  by: string;
  reason?: string;
}

/** What the tallies counted for an approved report, so a withdrawal takes back exactly that (report-tally.ts). */
export interface TalliedAs {
  date: string;
  kind: string;
  country: string;
  hour: string;
  photos: number;
}

export interface Report {
  /** Derived from the status token's hash (report.service.ts), so sending the form again makes no second report. */
  _id: Types.ObjectId;
  campaignId: Types.ObjectId;
  status: ReportState;
  statusTokenHash: string;
  /** The union link it came through (its id), if any: organisation and country came from it. */
  linkId: string | null;
  language: string;
  kind: string;
  /** A day of action, YYYY-MM-DD. */
  date: string;
  /** When the action began, HH:MM local time, if given (the dashboard's timeline). */
  startTime: string | null;
  city: string;
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
  participants: ParticipantRange;
  /** The union reporting. */
  organisation: string;
  /** Other organisations that took part (free text). */
  partners: string;
  text: string;
  consent: { version: number; language: string; statements: string[]; givenAt: Date };
  /** How many photos the sender's form said would follow (the status page says how many arrived). */
  photosExpected: number;
  photos: ReportPhoto[];
  /** Bumped by every change of `photos`: the compare-and-set of a photo's arrival or exclusion. */
  photosRev: number;
  rejection: { code: string; reason: string } | null;
  talliedAs: TalliedAs | null;
  decidedAt: Date | null;
  personalDataClearedAt: Date | null;
  history: ReportHistoryEntry[];
  createdAt: Date;
  updatedAt: Date;
}

const photoSchema = new Schema<ReportPhoto>(
  {
    id: { type: String, required: true },
    slot: { type: Number, required: true },
    key: { type: String, required: true },
    contentType: { type: String, required: true },
    bytes: { type: Number, required: true },
    width: { type: Number, required: true },
    height: { type: Number, required: true },
    sha256: { type: String, required: true },
    excluded: { type: Boolean, default: false },
  },
  { _id: false },
);

export const reportSchema = new Schema<Report>(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    campaignId: { type: Schema.Types.ObjectId, required: true },
    status: { type: String, enum: REPORT_STATES, required: true },
    statusTokenHash: { type: String, required: true },
    linkId: { type: String, default: null },
    language: { type: String, required: true },
    kind: { type: String, required: true },
    date: { type: String, required: true },
    startTime: { type: String, default: null },
    city: { type: String, default: '' },
    country: { type: String, required: true },
    participants: { type: String, required: true },
    organisation: { type: String, default: '' },
    partners: { type: String, default: '' },
    text: { type: String, default: '' },
    consent: { type: new Schema({ version: Number, language: String, statements: [String], givenAt: Date }, { _id: false }), required: true },
    photosExpected: { type: Number, default: 0 },
    photos: { type: [photoSchema], default: [] },
    photosRev: { type: Number, default: 0 },
    rejection: { type: new Schema({ code: String, reason: String }, { _id: false }), default: null },
    talliedAs: { type: new Schema<TalliedAs>({ date: String, kind: String, country: String, hour: String, photos: Number }, { _id: false }), default: null },
    decidedAt: { type: Date, default: null },
    personalDataClearedAt: { type: Date, default: null },
    history: {
      type: [new Schema<ReportHistoryEntry>({ transition: String, from: String, to: String, at: Date, by: String, reason: String }, { _id: false })],
      default: [],
    },
  },
  { timestamps: true, collection: 'reports', strict: 'throw' },
);

// What a real MongoDB would use for the gallery and the export (FerretDB filters well by _id only: the
// dashboard reads the tallies, never this collection).
reportSchema.index({ campaignId: 1, status: 1, date: 1 });

export type ReportModel = Model<Report>;

export function reportModel(connection: Connection): ReportModel {
  return connection.model<Report>('Report', reportSchema);
}

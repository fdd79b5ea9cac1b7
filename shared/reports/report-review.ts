import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * The action reports waiting for a moderator: one small document per report in `in_review`, inserted when a
 * report is submitted and removed when it leaves review (report.service.ts), like the clips' review queue
 * (shared/submissions/review-queue.ts) and for the same reason: FerretDB sorts nothing in the database, so
 * what is sorted must stay small.
 */
export interface ReportReviewEntry {
  _id: Types.ObjectId;
  campaignId: Types.ObjectId;
  kind: string;
  date: string;
  country: string;
  organisation: string;
  photos: number;
  enteredAt: Date;
  /** Who claimed it last, and until when (a claim shows other moderators someone is on it). */
  claimedBy: string | null;
  /** The claim holder's address, for other moderators to see. */
  claimedEmail: string | null;
  claimedUntil: Date | null;
  /** A photo's checklist answered "present" (a face, a badge…): two moderators approve it, as for sensitive clips. */
  sensitive: boolean;
  /** First approvals of a sensitive report (the second, by someone else, approves it). */
  approvals: Array<{ by: string; email: string; at: Date }>;
}

const schema = new Schema<ReportReviewEntry>(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    campaignId: { type: Schema.Types.ObjectId, required: true },
    kind: { type: String, required: true },
    date: { type: String, required: true },
    country: { type: String, required: true },
    organisation: { type: String, default: '' },
    photos: { type: Number, default: 0 },
    enteredAt: { type: Date, required: true },
    claimedBy: { type: String, default: null },
    claimedEmail: { type: String, default: null },
    claimedUntil: { type: Date, default: null },
    sensitive: { type: Boolean, default: false },
    approvals: { type: [new Schema({ by: String, email: String, at: Date }, { _id: false })], default: [] },
  },
  { collection: 'report_review', strict: 'throw', versionKey: false },
);
schema.index({ campaignId: 1, enteredAt: 1, _id: 1 });

export type ReportReviewModel = Model<ReportReviewEntry>;

export function reportReviewModel(connection: Connection): ReportReviewModel {
  return connection.model<ReportReviewEntry>('ReportReviewEntry', schema);
}

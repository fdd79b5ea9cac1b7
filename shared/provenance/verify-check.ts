import { randomBytes } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';

/**
 * One check of a file someone sent to /verify: the file itself is never kept (its object is removed as soon as
 * the job has read it), only the answer, for an hour, under a random id (the address of the answer page).
 *
 * States: waiting → checking → done | failed. `answer` is what the page says (shared/provenance/verify-answer.ts).
 */

export const VERIFY_CHECK_STATES = ['waiting', 'checking', 'done', 'failed'] as const;
export type VerifyCheckState = (typeof VERIFY_CHECK_STATES)[number];

/** How long an answer stays readable. */
export const VERIFY_ANSWER_SECONDS = 3600;

export interface VerifyCheck {
  /** 128 random bits, base64url: the answer's address. */
  _id: string;
  status: VerifyCheckState;
  /** The file's size and sniffed type (never its name). */
  bytes: number;
  contentType: string;
  createdAt: Date;
  /** After this the answer is gone (the worker's sweep removes it; reads treat it as gone at once). */
  expiresAt: Date;
  /** Why the file could not be checked: a stable code the page translates. */
  failure: string | null;
  answer: Record<string, unknown> | null;
}

export function newCheckId(): string {
  return randomBytes(16).toString('base64url');
}

export const verifyCheckSchema = new Schema<VerifyCheck>(
  {
    _id: { type: String, required: true },
    status: { type: String, enum: VERIFY_CHECK_STATES, required: true },
    bytes: { type: Number, required: true },
    contentType: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    failure: { type: String, default: null },
    answer: { type: Schema.Types.Mixed, default: null },
  },
  { versionKey: false, minimize: false },
);

export type VerifyCheckModel = Model<VerifyCheck>;

export function verifyCheckModel(connection: Connection): VerifyCheckModel {
  return connection.model<VerifyCheck>('VerifyCheck', verifyCheckSchema);
}

import { Schema, type Connection, type Model } from 'mongoose';

/** Every staff action that is audited. Later parts of moderation add theirs here. */
export const AUDIT_ACTIONS = [
  'admin_created',
  'login',
  'login_failed',
  'account_locked',
  'logout',
  'totp_enrolled',
  'totp_reset',
  'invite_created',
  'invite_accepted',
  'role_changed',
  'account_disabled',
  'account_enabled',
  'claim',
  'approve',
  'reject',
  'undo',
  'original_downloaded',
  'withdraw',
  'campaign_created',
  'campaign_updated',
  'consent_published',
  'campaign_logo_set',
  'union_link_created',
  'union_link_revoked',
  'captions_saved',
  'faces_edited',
  'protection_enabled',
  'feed_token_created',
  'feed_token_revoked',
  'webhook_created',
  'webhook_disabled',
  'release_branding_set',
  'release_branding_cleared',
  'submission_requeued',
  'account_unlocked',
  'audit_anchored',
  'backup_made',
  'backup_restored',
  // Action reports (issue 18).
  'report_claimed',
  'report_approved',
  'report_rejected',
  'report_withdrawn',
  'report_photo_excluded',
  'report_photo_included',
  'report_photo_masked',
  'reports_exported',
  'report_tallies_rebuilt',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditDetails = Record<string, string | number | boolean | string[] | null>;

/**
 * One entry of the append-only audit log. `_id` is the sequence number (1, 2, 3 …, unique by being the
 * `_id`), so two appends at once cannot both take the same place; `hash` covers every other field and
 * the previous entry's hash, so an entry rewritten or removed breaks the chain.
 */
export interface AuditEntry {
  _id: number;
  at: Date;
  actor: { id: string | null; email: string | null };
  action: AuditAction;
  target: { kind: string; id: string } | null;
  details: AuditDetails;
  prevHash: string;
  hash: string;
  /** HMAC of `hash` under the key outside the database (AUDIT_HMAC_KEY); null when written without one. Not part of the hash. */
  mac: string | null;
}

export const auditEntrySchema = new Schema<AuditEntry>(
  {
    _id: { type: Number, required: true },
    at: { type: Date, required: true },
    actor: { id: { type: String, default: null }, email: { type: String, default: null } },
    action: { type: String, enum: AUDIT_ACTIONS, required: true },
    target: { type: new Schema({ kind: String, id: String }, { _id: false }), default: null },
    details: { type: Schema.Types.Mixed, default: {} },
    prevHash: { type: String, required: true },
    hash: { type: String, required: true },
    mac: { type: String, default: null },
  },
  { collection: 'audit_entries', strict: 'throw', versionKey: false, minimize: false },
);

auditEntrySchema.index({ 'target.kind': 1, 'target.id': 1 });

/** Where the chain ends: a hint that saves reading the log to find its end (appends repair it when behind). */
export interface AuditHead {
  _id: 'head';
  seq: number;
  hash: string;
}

export const auditHeadSchema = new Schema<AuditHead>(
  { _id: { type: String, required: true }, seq: { type: Number, required: true }, hash: { type: String, required: true } },
  { collection: 'audit_head', strict: 'throw', versionKey: false },
);

export type AuditEntryModel = Model<AuditEntry>;
export type AuditHeadModel = Model<AuditHead>;

export function auditEntryModel(connection: Connection): AuditEntryModel {
  return connection.model<AuditEntry>('AuditEntry', auditEntrySchema);
}

export function auditHeadModel(connection: Connection): AuditHeadModel {
  return connection.model<AuditHead>('AuditHead', auditHeadSchema);
}

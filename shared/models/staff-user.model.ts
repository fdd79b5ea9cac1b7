import { Schema, type Connection, type Model, type Types } from 'mongoose';

/** Who may do what: admins manage staff and see everything; moderators review; the social team re-shares. */
export const STAFF_ROLES = ['admin', 'moderator', 'social'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/** Roles that must log in with a second factor (the issue: admins and moderators). */
export const ROLES_NEEDING_TOTP: readonly StaffRole[] = ['admin', 'moderator'];

export interface StaffUser {
  _id: Types.ObjectId;
  /** Lower-cased; staff addresses are the installation's own contacts, not contributors'. */
  email: string;
  role: StaffRole;
  /** Campaign slugs this person may work on; empty means every campaign (always empty for admins). */
  campaigns: string[];
  /** `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64url): the cost travels with the hash so it can be raised. */
  passwordHash: string;
  /**
   * The TOTP secret once enrolled, sealed with TOTP_ENCRYPTION_KEY (`enc:v1:…`, server/services/totp-secrets.ts;
   * plain base32 only when stored without a key); `lastStep` is the last time step accepted, so a code works once.
   */
  totp: {
    secret: string | null;
    lastStep: number;
    /**
     * The key shown while setting up, sealed like `secret`: the same one at every visit of the set-up page (any
     * session, any device) until a code from it comes back or it expires, so a key already scanned stays good.
     */
    pending?: { secret: string; expiresAt: Date } | null;
  };
  /** Wrong passwords or codes in a row from any address; at STAFF_ACCOUNT_MAX_FAILURES the account is locked for everyone. */
  failedLogins: number;
  lockedUntil: Date | null;
  /** When an admin last unlocked the account: every lock taken before it (also the per-address ones in memory) is void. */
  unlockedAt?: Date | null;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const staffUserSchema = new Schema<StaffUser>(
  {
    email: { type: String, required: true },
    role: { type: String, enum: STAFF_ROLES, required: true },
    campaigns: { type: [String], default: [] },
    passwordHash: { type: String, required: true },
    totp: {
      secret: { type: String, default: null },
      lastStep: { type: Number, default: 0 },
      pending: { type: new Schema({ secret: { type: String, required: true }, expiresAt: { type: Date, required: true } }, { _id: false }), default: null },
    },
    failedLogins: { type: Number, default: 0 },
    lockedUntil: { type: Date, default: null },
    unlockedAt: { type: Date, default: null },
    disabled: { type: Boolean, default: false },
  },
  { timestamps: true, collection: 'staff_users', strict: 'throw' },
);

staffUserSchema.index({ email: 1 }, { unique: true });

export type StaffUserModel = Model<StaffUser>;

export function staffUserModel(connection: Connection): StaffUserModel {
  return connection.model<StaffUser>('StaffUser', staffUserSchema);
}

/** A one-time invitation: only the SHA-256 of the link's token is stored. */
export interface StaffInvite {
  _id: Types.ObjectId;
  tokenHash: string;
  email: string;
  role: StaffRole;
  campaigns: string[];
  invitedBy: Types.ObjectId;
  expiresAt: Date;
  usedAt: Date | null;
  createdAt: Date;
}

export const staffInviteSchema = new Schema<StaffInvite>(
  {
    tokenHash: { type: String, required: true },
    email: { type: String, required: true },
    role: { type: String, enum: STAFF_ROLES, required: true },
    campaigns: { type: [String], default: [] },
    invitedBy: { type: Schema.Types.ObjectId, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date, default: null },
  },
  { timestamps: { createdAt: true, updatedAt: false }, collection: 'staff_invites', strict: 'throw' },
);

staffInviteSchema.index({ tokenHash: 1 }, { unique: true });

export type StaffInviteModel = Model<StaffInvite>;

export function staffInviteModel(connection: Connection): StaffInviteModel {
  return connection.model<StaffInvite>('StaffInvite', staffInviteSchema);
}

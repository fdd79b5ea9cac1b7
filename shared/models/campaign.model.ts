import { Schema, type Connection, type Model, type Types } from 'mongoose';

export const CAMPAIGN_STATUSES = ['draft', 'open', 'closed'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export interface ConsentStatement {
  /** Stable id of the statement, the same in every language of one version (e.g. "publish"). */
  id: string;
  text: string;
}

export interface ConsentText {
  language: string;
  statements: ConsentStatement[];
}

/** Consent texts are versioned: a submission records which version and language its contributor agreed to. */
export interface ConsentVersion {
  version: number;
  texts: ConsentText[];
  publishedAt: Date;
}

/** A union's own upload link: its token fills in the organisation and country; it can be revoked. */
export interface UnionLink {
  id: string;
  /** SHA-256 (hex) of the link's token; the token itself is shown once, when the link is made. */
  tokenHash: string;
  organisation: string;
  country: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface Campaign {
  _id: Types.ObjectId;
  slug: string;
  name: string;
  languages: string[];
  consentVersions: ConsentVersion[];
  status: CampaignStatus;
  opensAt: Date | null;
  closesAt: Date | null;
  unionLinks: UnionLink[];
  createdAt: Date;
  updatedAt: Date;
}

const consentStatementSchema = new Schema<ConsentStatement>(
  { id: { type: String, required: true }, text: { type: String, required: true } },
  { _id: false },
);

const consentTextSchema = new Schema<ConsentText>(
  { language: { type: String, required: true }, statements: { type: [consentStatementSchema], required: true } },
  { _id: false },
);

const consentVersionSchema = new Schema<ConsentVersion>(
  {
    version: { type: Number, required: true },
    texts: { type: [consentTextSchema], required: true },
    publishedAt: { type: Date, required: true },
  },
  { _id: false },
);

const unionLinkSchema = new Schema<UnionLink>(
  {
    id: { type: String, required: true },
    tokenHash: { type: String, required: true },
    organisation: { type: String, required: true },
    country: { type: String, required: true },
    createdAt: { type: Date, required: true },
    revokedAt: { type: Date, default: null },
  },
  { _id: false },
);

export const campaignSchema = new Schema<Campaign>(
  {
    slug: { type: String, required: true },
    name: { type: String, required: true },
    languages: { type: [String], required: true },
    consentVersions: { type: [consentVersionSchema], required: true },
    status: { type: String, enum: CAMPAIGN_STATUSES, required: true, default: 'draft' },
    opensAt: { type: Date, default: null },
    closesAt: { type: Date, default: null },
    unionLinks: { type: [unionLinkSchema], default: [] },
  },
  { timestamps: true, collection: 'campaigns', strict: 'throw' },
);

campaignSchema.index({ slug: 1 }, { unique: true });

export type CampaignModel = Model<Campaign>;

export function campaignModel(connection: Connection): CampaignModel {
  return connection.model<Campaign>('Campaign', campaignSchema);
}

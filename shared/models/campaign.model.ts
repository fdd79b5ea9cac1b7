import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { ActionKind } from '../reports/action-kinds';

export const CAMPAIGN_STATUSES = ['draft', 'open', 'closed'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export interface ConsentStatement {
  /** Stable id of the statement, the same in every language of one version (e.g. "publish"). */
  id: string;
  text: string;
  /** What agreeing grants: uses ('social', 'web', 'events', 'press') and 'credit' (shared/submissions/consent-scopes.ts). */
  grants?: string[];
  /** An optional statement may be left unticked (a use the contributor does not allow); the others must be agreed. */
  optional?: boolean;
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

/** A reason a moderator can give for rejecting a clip, written in each of the campaign's languages. */
export interface RejectionReason {
  /** Stable id, e.g. "off_topic". */
  id: string;
  texts: { language: string; text: string }[];
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

/** A text in one language (a campaign's title or prompt). */
export interface LocalisedText {
  language: string;
  text: string;
}

/** The campaign's logo: an image an admin uploaded, checked and stored in our bucket, served by this server only. */
export interface CampaignLogo {
  /** Random id, part of the logo's address (a new logo gets a new address, so it may be cached for long). */
  id: string;
  /** S3 key (opaque: campaigns/<campaign id>/logo-<id>). */
  key: string;
  contentType: 'image/png' | 'image/jpeg' | 'image/webp';
  bytes: number;
  width: number;
  height: number;
  uploadedAt: Date;
}

/** How the contributors' page looks: colours are checked for contrast when set (campaign-branding.ts). */
export interface CampaignBranding {
  logo: CampaignLogo | null;
  /** Buttons, links and the language switcher (white text on it). `#rrggbb`; null: the page's own. */
  accentColour: string | null;
  /** The page's background (dark text on it). `#rrggbb`; null: the page's own. */
  backgroundColour: string | null;
}

/**
 * What the release renders add for a campaign (optional; set by the CLI, `campaigns set-watermark` /
 * `set-end-card`, server/services/release-branding.service.ts): a small PNG logo in a corner of every
 * render, and a still PNG shown for a few seconds, silent, at the end. Keys under campaign-release/<id>/.
 */
/** How long the end card shows, in whole seconds: the schema's bounds, and the CLI's check (release-branding.service.ts). */
export const END_CARD_SECONDS = { min: 1, max: 10, default: 3 } as const;

export interface CampaignRelease {
  watermarkKey: string | null;
  endCardKey: string | null;
  endCardSeconds: number;
}

export interface Campaign {
  _id: Types.ObjectId;
  slug: string;
  /** The campaign's name for staff, and the page's title when it has none in the contributor's language. */
  name: string;
  /** Absent on campaigns made before titles existed: read through localisedText() (campaign.service.ts), else the name. */
  titles?: LocalisedText[];
  /** What the campaign asks contributors for, per language (shown above the form); absent: the page's generic intro. */
  prompts?: LocalisedText[];
  /** Absent on campaigns made before branding existed: the page's own look. */
  branding?: CampaignBranding;
  languages: string[];
  consentVersions: ConsentVersion[];
  /** What a moderator picks from when rejecting; the contributor reads it in their language. */
  rejectionReasons: RejectionReason[];
  /**
   * Moderators tick the safety checklist before approving a clip. A campaign whose clips cannot put anyone
   * at risk (public statements by union officers, say) may turn it off: its clips can then be approved in bulk.
   */
  checklistRequired: boolean;
  status: CampaignStatus;
  /** Added to every suggested post text (e.g. "#SolidarityWithBelarus"). */
  hashtags?: string[];
  opensAt: Date | null;
  closesAt: Date | null;
  unionLinks: UnionLink[];
  /** Release branding (watermark, end card); absent or null: none. */
  release?: CampaignRelease | null;
  /** Action reports (issue 18): the kinds a union picks from; absent or empty: DEFAULT_ACTION_KINDS (shared/reports/action-kinds.ts). */
  actionKinds?: ActionKind[];
  /** Action reports: the days of action (`YYYY-MM-DD`, sorted); a report's date is one of them. Empty: no report can be sent yet. */
  actionDays?: string[];
  createdAt: Date;
  updatedAt: Date;
}

const consentStatementSchema = new Schema<ConsentStatement>(
  { id: { type: String, required: true }, text: { type: String, required: true }, grants: { type: [String], default: [] }, optional: { type: Boolean, default: false } },
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

const rejectionReasonSchema = new Schema<RejectionReason>(
  {
    id: { type: String, required: true },
    texts: { type: [new Schema({ language: { type: String, required: true }, text: { type: String, required: true } }, { _id: false })], required: true },
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

const localisedTextSchema = new Schema<LocalisedText>({ language: { type: String, required: true }, text: { type: String, required: true } }, { _id: false });

const logoSchema = new Schema<CampaignLogo>(
  {
    id: { type: String, required: true },
    key: { type: String, required: true },
    contentType: { type: String, enum: ['image/png', 'image/jpeg', 'image/webp'], required: true },
    bytes: { type: Number, required: true },
    width: { type: Number, required: true },
    height: { type: Number, required: true },
    uploadedAt: { type: Date, required: true },
  },
  { _id: false },
);

const brandingSchema = new Schema<CampaignBranding>(
  {
    logo: { type: logoSchema, default: null },
    accentColour: { type: String, default: null },
    backgroundColour: { type: String, default: null },
  },
  { _id: false },
);

export const campaignSchema = new Schema<Campaign>(
  {
    slug: { type: String, required: true },
    name: { type: String, required: true },
    titles: { type: [localisedTextSchema], default: [] },
    prompts: { type: [localisedTextSchema], default: [] },
    branding: { type: brandingSchema, default: () => ({ logo: null, accentColour: null, backgroundColour: null }) },
    languages: { type: [String], required: true },
    consentVersions: { type: [consentVersionSchema], required: true },
    rejectionReasons: { type: [rejectionReasonSchema], default: [] },
    checklistRequired: { type: Boolean, default: true },
    status: { type: String, enum: CAMPAIGN_STATUSES, required: true, default: 'draft' },
    hashtags: { type: [String], default: [] },
    opensAt: { type: Date, default: null },
    closesAt: { type: Date, default: null },
    unionLinks: { type: [unionLinkSchema], default: [] },
    release: {
      type: new Schema<CampaignRelease>(
        { watermarkKey: { type: String, default: null }, endCardKey: { type: String, default: null }, endCardSeconds: {
            type: Number,
            default: END_CARD_SECONDS.default,
            min: END_CARD_SECONDS.min,
            max: END_CARD_SECONDS.max,
            validate: { validator: Number.isInteger, message: 'the end card lasts whole seconds' },
          },
        },
        { _id: false },
      ),
      default: null,
    },
    // Action reports (issue 18).
    actionKinds: { type: [new Schema<ActionKind>({ id: { type: String, required: true }, texts: { type: [localisedTextSchema], required: true } }, { _id: false })], default: [] },
    actionDays: { type: [String], default: [] },
  },
  { timestamps: true, collection: 'campaigns', strict: 'throw' },
);

campaignSchema.index({ slug: 1 }, { unique: true });

export type CampaignModel = Model<Campaign>;

export function campaignModel(connection: Connection): CampaignModel {
  return connection.model<Campaign>('Campaign', campaignSchema);
}

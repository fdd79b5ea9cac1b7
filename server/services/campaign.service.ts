import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError, databaseUnavailable, isDatabaseUnavailable } from '../../shared/errors';
import type { Database } from '../../shared/db';
import type { Campaign, ConsentVersion, UnionLink } from '../../shared/models/campaign.model';
import { CONSENT_GRANTS } from '../../shared/submissions/consent-scopes';

export const LANGUAGE_CODE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

const statementSchema = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'statement ids are short lowercase words, e.g. "publish"'),
  text: z.string().trim().min(1).max(2000),
  grants: z.array(z.enum(CONSENT_GRANTS)).max(CONSENT_GRANTS.length).default([]),
  optional: z.boolean().default(false),
});

/** What it takes to create a campaign (the CLI and the local seed use this). */
export const newCampaignSchema = z
  .object({
    slug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'a slug is lowercase letters, digits and dashes'),
    name: z.string().trim().min(1).max(200),
    languages: z.array(z.string().regex(LANGUAGE_CODE)).min(1),
    status: z.enum(['draft', 'open', 'closed']).default('open'),
    hashtags: z.array(z.string().regex(/^#?[\p{L}\p{N}_]{1,100}$/u, 'a hashtag is letters, digits and underscores')).max(30).default([]),
    opensAt: z.coerce.date().nullable().default(null),
    closesAt: z.coerce.date().nullable().default(null),
    consent: z
      .array(z.object({ language: z.string().regex(LANGUAGE_CODE), statements: z.array(statementSchema).min(1) }))
      .min(1),
    /** Rejection reasons moderators pick from: `{ id, texts: { <language>: text } }`, a text in every campaign language. */
    rejectionReasons: z
      .array(
        z
          .object({
            id: z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'reason ids are short lowercase words, e.g. "off_topic"'),
            texts: z.record(z.string().regex(LANGUAGE_CODE), z.string().trim().min(1).max(1000)),
          })
          .strict(),
      )
      .max(50)
      .default([]),
    checklistRequired: z.boolean().default(true),
  })
  .strict()
  .superRefine((campaign, ctx) => {
    // The same statements, with the same grants, in every language.
    const ids = (text: { statements: { id: string; grants: string[]; optional: boolean }[] }) =>
      text.statements.map((s) => `${s.id}:${[...s.grants].sort().join('+')}:${s.optional}`).sort().join(',');
    const first = campaign.consent[0];
    for (const text of campaign.consent) {
      if (first && ids(text) !== ids(first)) {
        ctx.addIssue({ code: 'custom', path: ['consent'], message: `consent in "${text.language}" must have the same statement ids as in "${first.language}"` });
      }
    }
    for (const language of campaign.languages) {
      if (!campaign.consent.some((text) => text.language === language)) {
        ctx.addIssue({ code: 'custom', path: ['consent'], message: `no consent text in "${language}", one of the campaign's languages` });
      }
    }
    const reasonIds = new Set<string>();
    for (const reason of campaign.rejectionReasons) {
      if (reasonIds.has(reason.id)) ctx.addIssue({ code: 'custom', path: ['rejectionReasons'], message: `the reason "${reason.id}" is there twice` });
      reasonIds.add(reason.id);
      for (const language of campaign.languages) {
        if (!reason.texts[language]) ctx.addIssue({ code: 'custom', path: ['rejectionReasons'], message: `the reason "${reason.id}" has no text in "${language}", one of the campaign's languages` });
      }
    }
    if (campaign.opensAt && campaign.closesAt && campaign.opensAt >= campaign.closesAt) {
      ctx.addIssue({ code: 'custom', path: ['closesAt'], message: 'closesAt must be after opensAt' });
    }
  });

export type NewCampaign = z.input<typeof newCampaignSchema>;

export function currentConsent(campaign: Pick<Campaign, 'consentVersions'>): ConsentVersion {
  const latest = campaign.consentVersions.at(-1);
  if (!latest) throw new Error('campaign has no consent text');
  return latest;
}

export async function createCampaign(db: Database, input: NewCampaign, now: Date): Promise<Campaign> {
  const campaign = newCampaignSchema.parse(input);
  const existing = await db.campaigns.findOne({ slug: campaign.slug }).lean();
  if (existing) throw new AppError('campaign_exists', 409, `A campaign with the slug "${campaign.slug}" already exists.`);
  const created = await db.campaigns.create({
    slug: campaign.slug,
    name: campaign.name,
    languages: campaign.languages,
    status: campaign.status,
    hashtags: campaign.hashtags.map((tag) => (tag.startsWith('#') ? tag : `#${tag}`)),
    opensAt: campaign.opensAt,
    closesAt: campaign.closesAt,
    consentVersions: [{ version: 1, texts: campaign.consent, publishedAt: now }],
    rejectionReasons: campaign.rejectionReasons.map((reason) => ({ id: reason.id, texts: Object.entries(reason.texts).map(([language, text]) => ({ language, text })) })),
    checklistRequired: campaign.checklistRequired,
  });
  return created.toObject();
}

export async function findCampaign(db: Database, slug: string): Promise<Campaign> {
  let campaign: Campaign | null;
  try {
    campaign = await db.campaigns.findOne({ slug }).lean<Campaign>();
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw databaseUnavailable(error);
    throw error;
  }
  if (!campaign) throw new AppError('campaign_not_found', 404, `There is no campaign "${slug}". Please check the link you were given.`);
  return campaign;
}

export function isOpen(campaign: Campaign, now: Date): boolean {
  return (
    campaign.status === 'open' &&
    (campaign.opensAt === null || campaign.opensAt <= now) &&
    (campaign.closesAt === null || now < campaign.closesAt)
  );
}

/** The campaign, if it takes uploads now; otherwise a clear refusal. */
export async function findOpenCampaign(db: Database, slug: string, now: Date): Promise<Campaign> {
  const campaign = await findCampaign(db, slug);
  if (!isOpen(campaign, now)) {
    const notYet = campaign.status === 'draft' || (campaign.opensAt !== null && now < campaign.opensAt);
    throw new AppError(
      'campaign_closed',
      403,
      notYet
        ? `The campaign "${campaign.name}" is not taking clips yet.`
        : `The campaign "${campaign.name}" has closed and no longer takes clips.`,
      { details: { opensAt: campaign.opensAt, closesAt: campaign.closesAt } },
    );
  }
  return campaign;
}

/** What anyone may read about a campaign: enough for the upload page (and curl) to build a valid submission. */
export function publicCampaign(campaign: Campaign, now: Date) {
  const consent = currentConsent(campaign);
  return {
    slug: campaign.slug,
    name: campaign.name,
    languages: campaign.languages,
    open: isOpen(campaign, now),
    opensAt: campaign.opensAt,
    closesAt: campaign.closesAt,
    consent: { version: consent.version, texts: consent.texts },
  };
}

const hashLinkToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

const unionLinkSchema = z
  .object({
    organisation: z.string().trim().min(1).max(200),
    country: z.string().trim().toUpperCase().regex(/^[A-Z]{2}$/, 'a two-letter country code, e.g. "BY"'),
  })
  .strict();

/** A union's own upload link for a campaign; the token is returned once (only its hash is kept). */
export async function createUnionLink(db: Database, slug: string, input: z.input<typeof unionLinkSchema>, now: Date): Promise<{ id: string; token: string; path: string }> {
  const { organisation, country } = unionLinkSchema.parse(input);
  const campaign = await findCampaign(db, slug);
  const token = randomBytes(18).toString('base64url');
  const link: UnionLink = { id: randomBytes(6).toString('hex'), tokenHash: hashLinkToken(token), organisation, country, createdAt: now, revokedAt: null };
  await db.campaigns.updateOne({ _id: campaign._id }, { $push: { unionLinks: link } });
  return { id: link.id, token, path: `/c/${campaign.slug}/u/${token}` };
}

export async function revokeUnionLink(db: Database, slug: string, id: string, now: Date): Promise<void> {
  const campaign = await findCampaign(db, slug);
  const links = (campaign.unionLinks ?? []).map((link) => (link.id === id && !link.revokedAt ? { ...link, revokedAt: now } : link));
  if (!links.some((link) => link.id === id)) throw new AppError('link_not_found', 404, `The campaign "${slug}" has no link "${id}".`);
  await db.campaigns.updateOne({ _id: campaign._id }, { $set: { unionLinks: links } });
}

/** The union link a token opens; a revoked or unknown one is refused with a clear error. */
export function findUnionLink(campaign: Campaign, token: string): UnionLink {
  const hash = hashLinkToken(token);
  const link = (campaign.unionLinks ?? []).find((candidate) => candidate.tokenHash === hash);
  if (!link) throw new AppError('link_not_found', 404, 'This upload link is not valid. Please check the link you were given.');
  if (link.revokedAt) throw new AppError('link_revoked', 403, 'This upload link has been withdrawn by the campaign. Please ask your union for a new one.');
  return link;
}

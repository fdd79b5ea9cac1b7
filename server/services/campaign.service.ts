import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError, databaseUnavailable, isDatabaseUnavailable, isDuplicateKey } from '../../shared/errors';
import type { Database } from '../../shared/db';
import type { Campaign, ConsentVersion, LocalisedText, UnionLink } from '../../shared/models/campaign.model';
import { CONSENT_GRANTS } from '../../shared/submissions/consent-scopes';
import { LANGUAGE_CODE } from '../../shared/captions/caption-versions';
import { appendAudit, type AuditEvent } from './audit.service';
import { colourIssues, HEX_COLOUR } from './campaign-branding';
import { cleanString } from '../../shared/text/hostile-text';
import { withCampaignLock } from './campaign-lock';

export type Actor = AuditEvent['actor'];
/** Who acts when the operator's command line does (the CLI has no staff session). */
export const CLI_ACTOR: Actor = { id: null, email: 'command line' };

/** Campaign, consent and contributor languages: one expression with the caption languages (shared/captions/caption-versions.ts). */
export { LANGUAGE_CODE };

/** A campaign's slug (its address, /c/<slug>): the schema's and the staff routes' check. */
export const CAMPAIGN_SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;

const statementSchema = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'statement ids are short lowercase words, e.g. "publish"'),
  text: cleanString(1, 2000),
  grants: z.array(z.enum(CONSENT_GRANTS)).max(CONSENT_GRANTS.length).default([]),
  optional: z.boolean().default(false),
});

const languageCode = z.string().regex(LANGUAGE_CODE, 'a language code, e.g. "be"');

/** One consent version: a text per language, the same statements in each (checked by consentIssues). */
export const consentTextsSchema = z.array(z.object({ language: languageCode, statements: z.array(statementSchema).min(1).max(30) }).strict()).min(1);

/** Per-language texts (title, prompt): `{ "be": "…", "en": "…" }`. */
export const localisedSchema = (max: number) => z.record(languageCode, cleanString(1, max));
/** Hashtags, given with or without their `#`, stored with it. */
export const hashtagsSchema = z
  .array(z.string().regex(/^#?[\p{L}\p{N}_]{1,100}$/u, 'a hashtag is letters, digits and underscores'))
  .max(30)
  .transform((tags) => tags.map((tag) => (tag.startsWith('#') ? tag : `#${tag}`)));
export const colourSchema = z.string().regex(HEX_COLOUR, 'a colour is written #rrggbb, e.g. #a3001a').nullable();
export const TITLE_MAX = 200;
export const PROMPT_MAX = 2000;

type Issue = { path: string[]; message: string };

/** The same statements, with the same grants, in every language; a text in each of the campaign's languages. */
export function consentIssues(consent: z.output<typeof consentTextsSchema>, languages: readonly string[]): Issue[] {
  const issues: Issue[] = [];
  const ids = (text: { statements: { id: string; grants: string[]; optional: boolean }[] }) =>
    text.statements.map((s) => `${s.id}:${[...s.grants].sort().join('+')}:${s.optional}`).sort().join(',');
  const first = consent[0];
  const seen = new Set<string>();
  for (const text of consent) {
    if (seen.has(text.language)) issues.push({ path: ['consent'], message: `there are two consent texts in "${text.language}"` });
    seen.add(text.language);
    if (first && ids(text) !== ids(first)) issues.push({ path: ['consent'], message: `consent in "${text.language}" must have the same statement ids as in "${first.language}"` });
  }
  for (const language of languages) {
    if (!seen.has(language)) issues.push({ path: ['consent'], message: `no consent text in "${language}", one of the campaign's languages` });
  }
  return issues;
}

/** Titles and prompts only in the campaign's languages. */
export function localisedIssues(field: 'titles' | 'prompts', texts: Record<string, string> | undefined, languages: readonly string[]): Issue[] {
  return Object.keys(texts ?? {})
    .filter((language) => !languages.includes(language))
    .map((language) => ({ path: [field, language], message: `"${language}" is not one of the campaign's languages (${languages.join(', ')})` }));
}

/** What it takes to create a campaign (the CLI, the admin API and page, and the local seed use this). */
export const newCampaignSchema = z
  .object({
    slug: z.string().regex(CAMPAIGN_SLUG, 'a slug is lowercase letters, digits and dashes'),
    name: cleanString(1, 200),
    /** The page's title per language (the name where there is none). */
    titles: localisedSchema(TITLE_MAX).default({}),
    /** What the campaign asks contributors for, per language. */
    prompts: localisedSchema(PROMPT_MAX).default({}),
    languages: z.array(languageCode).min(1).max(20),
    status: z.enum(['draft', 'open', 'closed']).default('open'),
    hashtags: hashtagsSchema.default([]),
    opensAt: z.coerce.date().nullable().default(null),
    closesAt: z.coerce.date().nullable().default(null),
    accentColour: colourSchema.default(null),
    backgroundColour: colourSchema.default(null),
    consent: consentTextsSchema,
    /** Rejection reasons moderators pick from: `{ id, texts: { <language>: text } }`, a text in every campaign language. */
    rejectionReasons: z
      .array(
        z
          .object({
            id: z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'reason ids are short lowercase words, e.g. "off_topic"'),
            texts: z.record(z.string().regex(LANGUAGE_CODE), cleanString(1, 1000)),
          })
          .strict(),
      )
      .max(50)
      .default([]),
    checklistRequired: z.boolean().default(true),
  })
  .strict()
  .superRefine((campaign, ctx) => {
    for (const issue of [
      ...consentIssues(campaign.consent, campaign.languages),
      ...localisedIssues('titles', campaign.titles, campaign.languages),
      ...localisedIssues('prompts', campaign.prompts, campaign.languages),
      ...colourIssues(campaign).map((issue) => ({ path: [issue.field], message: issue.message })),
    ]) {
      ctx.addIssue({ code: 'custom', ...issue });
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

/**
 * Input checked by a schema, or a 400 that says what is wrong and where (`errors: [{ field, message }]`, as
 * the upload API's): the one way the CLI, the admin API and the admin page validate campaign input.
 */
export function parseCampaignInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const hidden = prototypeKeys(input);
  if (hidden.length) throw invalidCampaign(hidden.map((path) => ({ path, message: 'this key is not allowed (it names an object\'s prototype)' })));
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw invalidCampaign(parsed.error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })));
}

/**
 * Where JSON input has a `__proto__` key (JSON.parse makes it an own key). Zod's records drop it without a
 * word, so `{"titles": {"__proto__": "x"}}` would quietly empty the titles: it is refused by name instead.
 */
function prototypeKeys(value: unknown, path: string[] = []): string[][] {
  if (!value || typeof value !== 'object') return [];
  return Object.keys(value).flatMap((key) => (key === '__proto__' ? [[...path, key]] : prototypeKeys((value as Record<string, unknown>)[key], [...path, key])));
}

export function invalidCampaign(issues: Issue[]): AppError {
  const errors = issues.map((issue) => ({ field: issue.path.join('.') || '(body)', message: issue.message }));
  return new AppError('invalid_campaign', 400, `The campaign was not accepted: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}.`, { details: { errors } });
}

export const toLocalised = (texts: Record<string, string>): LocalisedText[] => Object.entries(texts).map(([language, text]) => ({ language, text }));
/** The other way: `{ "be": "…" }` from a stored list (absent on campaigns made before titles: `{}`). */
export const fromLocalised = (texts: LocalisedText[] | undefined): Record<string, string> => Object.fromEntries((texts ?? []).map((t) => [t.language, t.text]));

/**
 * The text in `language`, else in the campaign's first language that has one (with the language it is in), else
 * null. The page's title is this, else the campaign's name (campaigns made before titles).
 */
export function localisedText(campaign: Pick<Campaign, 'languages'>, texts: LocalisedText[] | undefined, language: string): LocalisedText | null {
  return texts?.find((t) => t.language === language) ?? campaign.languages.map((l) => texts?.find((t) => t.language === l)).find(Boolean) ?? null;
}

/** What the campaign asks contributors for, in a language (its own, else the first language's), or null. */
export function campaignPrompt(campaign: Pick<Campaign, 'languages' | 'prompts'>, language: string): LocalisedText | null {
  return localisedText(campaign, campaign.prompts, language);
}

export function currentConsent(campaign: Pick<Campaign, 'consentVersions'>): ConsentVersion {
  const latest = campaign.consentVersions.at(-1);
  if (!latest) throw new Error('campaign has no consent text');
  return latest;
}

/** Makes a campaign (consent version 1); audited when an actor is given (the CLI, the admin API and page). */
export async function createCampaign(db: Database, input: NewCampaign, now: Date, actor?: Actor): Promise<Campaign> {
  const campaign = parseCampaignInput(newCampaignSchema, input);
  const existing = await db.campaigns.findOne({ slug: campaign.slug }).lean();
  const exists = () => new AppError('campaign_exists', 409, `A campaign with the slug "${campaign.slug}" already exists.`);
  if (existing) throw exists();
  const created = await db.campaigns.create({
    slug: campaign.slug,
    name: campaign.name,
    titles: toLocalised(campaign.titles),
    prompts: toLocalised(campaign.prompts),
    branding: { logo: null, accentColour: campaign.accentColour?.toLowerCase() ?? null, backgroundColour: campaign.backgroundColour?.toLowerCase() ?? null },
    languages: campaign.languages,
    status: campaign.status,
    hashtags: campaign.hashtags,
    opensAt: campaign.opensAt,
    closesAt: campaign.closesAt,
    consentVersions: [{ version: 1, texts: campaign.consent, publishedAt: now }],
    rejectionReasons: campaign.rejectionReasons.map((reason) => ({ id: reason.id, texts: Object.entries(reason.texts).map(([language, text]) => ({ language, text })) })),
    checklistRequired: campaign.checklistRequired,
  }).catch((error: unknown) => {
    // Two creations of one slug at once: the unique index refuses the second.
    throw isDuplicateKey(error) ? exists() : error;
  });
  if (actor) await appendAudit(db, { actor, action: 'campaign_created', target: { kind: 'campaign', id: campaign.slug }, details: { languages: campaign.languages, status: campaign.status } }, now);
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
  if (!campaign) throw new AppError('campaign_not_found', 404, `There is no campaign "${slug}". Please check the link you were given.`, { details: { campaign: slug } });
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
  const logo = campaign.branding?.logo ?? null;
  return {
    slug: campaign.slug,
    name: campaign.name,
    titles: fromLocalised(campaign.titles),
    prompts: fromLocalised(campaign.prompts),
    branding: {
      logo: logo ? { url: campaignLogoPath(campaign.slug, logo.id), width: logo.width, height: logo.height } : null,
      accentColour: campaign.branding?.accentColour ?? null,
      backgroundColour: campaign.branding?.backgroundColour ?? null,
    },
    hashtags: campaign.hashtags ?? [],
    languages: campaign.languages,
    open: isOpen(campaign, now),
    opensAt: campaign.opensAt,
    closesAt: campaign.closesAt,
    consent: { version: consent.version, texts: consent.texts },
  };
}

/** Where this server serves a campaign's logo (a new logo gets a new id, so the address changes with it). */
export function campaignLogoPath(slug: string, logoId: string): string {
  return `/c/${encodeURIComponent(slug)}/logo/${logoId}`;
}

const hashLinkToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

const unionLinkSchema = z
  .object({
    organisation: cleanString(1, 200),
    country: z.string().trim().toUpperCase().regex(/^[A-Z]{2}$/, 'a two-letter country code, e.g. "BY"'),
  })
  .strict();

/** A union's own upload link for a campaign; the token is returned once (only its hash is kept). */
export async function createUnionLink(db: Database, slug: string, input: z.input<typeof unionLinkSchema>, now: Date, actor: Actor = CLI_ACTOR): Promise<{ id: string; token: string; path: string }> {
  const { organisation, country } = parseCampaignInput(unionLinkSchema, input);
  return withCampaignLock(db, slug, async () => {
    const campaign = await findCampaign(db, slug);
    const token = randomBytes(18).toString('base64url');
    const link: UnionLink = { id: randomBytes(6).toString('hex'), tokenHash: hashLinkToken(token), organisation, country, createdAt: now, revokedAt: null };
    await db.campaigns.updateOne({ _id: campaign._id }, { $push: { unionLinks: link } });
    await appendAudit(db, { actor, action: 'union_link_created', target: { kind: 'campaign', id: campaign.slug }, details: { link: link.id, organisation, country } }, now);
    return { id: link.id, token, path: `/c/${campaign.slug}/u/${token}` };
  });
}

/** Revokes a link (under the campaign's lock: the links are rewritten whole, so nothing may change them meanwhile). */
export async function revokeUnionLink(db: Database, slug: string, id: string, now: Date, actor: Actor = CLI_ACTOR): Promise<void> {
  return withCampaignLock(db, slug, async () => {
    const campaign = await findCampaign(db, slug);
    const links = (campaign.unionLinks ?? []).map((link) => (link.id === id && !link.revokedAt ? { ...link, revokedAt: now } : link));
    if (!links.some((link) => link.id === id)) throw new AppError('link_not_found', 404, `The campaign "${slug}" has no link "${id}".`);
    await db.campaigns.updateOne({ _id: campaign._id }, { $set: { unionLinks: links } });
    await appendAudit(db, { actor, action: 'union_link_revoked', target: { kind: 'campaign', id: campaign.slug }, details: { link: id } }, now);
  });
}

/** The union link a token opens; a revoked or unknown one is refused with a clear error. */
export function findUnionLink(campaign: Campaign, token: string): UnionLink {
  const hash = hashLinkToken(token);
  const link = (campaign.unionLinks ?? []).find((candidate) => candidate.tokenHash === hash);
  if (!link) throw new AppError('link_not_found', 404, 'This upload link is not valid. Please check the link you were given.');
  if (link.revokedAt) throw new AppError('link_revoked', 403, 'This upload link has been withdrawn by the campaign. Please ask your union for a new one.');
  return link;
}

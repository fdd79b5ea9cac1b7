import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { Database } from '../../shared/db';
import { AppError } from '../../shared/errors';
import { CAMPAIGN_STATUSES, type Campaign, type CampaignLogo, type ConsentVersion } from '../../shared/models/campaign.model';
import type { ObjectStorage } from '../../shared/storage/object-storage';
import { campaignLogoKey } from '../../shared/storage/keys';
import { appendAudit } from './audit.service';
import { colourIssues } from './campaign-branding';
import { withCampaignLock } from './campaign-lock';
import { checkLogo } from './campaign-logo';
import { cleanString } from '../../shared/text/hostile-text';
import { ACTION_KIND_ID, actionKindsOf, isCalendarDate } from '../../shared/reports/action-kinds';
import {
  campaignLogoPath,
  colourSchema,
  consentIssues,
  consentTextsSchema,
  currentConsent,
  findCampaign,
  fromLocalised,
  hashtagsSchema,
  invalidCampaign,
  isOpen,
  LANGUAGE_CODE,
  localisedIssues,
  localisedSchema,
  parseCampaignInput,
  PROMPT_MAX,
  TITLE_MAX,
  toLocalised,
  type Actor,
} from './campaign.service';

/**
 * What admins do to campaigns after creating them (campaign.service.ts creates): change their fields,
 * publish a new consent version, set the logo, list them. The admin API, the admin page and the CLI call
 * these, so the checks are the same everywhere; every change is audited.
 */

/** A change to a campaign: only the fields given change. Consent is not here: it changes by a new version. */
export const campaignUpdateSchema = z
  .object({
    name: cleanString(1, 200),
    /** Replaces every title; a language left out has none (the page then shows the first language's, or the name). */
    titles: localisedSchema(TITLE_MAX),
    prompts: localisedSchema(PROMPT_MAX),
    languages: z.array(z.string().regex(LANGUAGE_CODE, 'a language code, e.g. "be"')).min(1).max(20),
    status: z.enum(CAMPAIGN_STATUSES),
    hashtags: hashtagsSchema,
    opensAt: z.coerce.date().nullable(),
    closesAt: z.coerce.date().nullable(),
    accentColour: colourSchema,
    backgroundColour: colourSchema,
    checklistRequired: z.boolean(),
    // Action reports (issue 18): the kinds of action offered, each named in the campaign's languages, and the days of action.
    actionKinds: z.array(z.object({ id: z.string().regex(ACTION_KIND_ID, 'an id of lower-case letters, digits and _, e.g. "embassy_protest"'), texts: localisedSchema(80) }).strict()).min(1).max(30),
    actionDays: z.array(z.string().refine(isCalendarDate, 'a date written YYYY-MM-DD, e.g. 2027-03-27')).max(31),
  })
  .partial()
  .strict();

export type CampaignUpdate = z.input<typeof campaignUpdateSchema>;

export async function updateCampaign(db: Database, slug: string, input: unknown, now: Date, actor: Actor): Promise<Campaign> {
  if (input && typeof input === 'object' && ('consent' in input || 'consentVersions' in input)) {
    throw invalidCampaign([{ path: ['consent'], message: 'consent is never edited: publish a new consent version instead (earlier contributors keep the text they agreed to)' }]);
  }
  const change = parseCampaignInput(campaignUpdateSchema, input);
  return withCampaignLock(db, slug, async () => {
    const campaign = await findCampaign(db, slug);
    const languages = change.languages ?? campaign.languages;
    const titles = change.titles ?? fromLocalised(campaign.titles);
    const prompts = change.prompts ?? fromLocalised(campaign.prompts);
    const colours = {
      accentColour: change.accentColour === undefined ? (campaign.branding?.accentColour ?? null) : change.accentColour,
      backgroundColour: change.backgroundColour === undefined ? (campaign.branding?.backgroundColour ?? null) : change.backgroundColour,
    };
    const opensAt = change.opensAt === undefined ? campaign.opensAt : change.opensAt;
    const closesAt = change.closesAt === undefined ? campaign.closesAt : change.closesAt;
    const consent = currentConsent(campaign);
    const issues = [
      ...languages
        .filter((l) => change.languages && !consent.texts.some((t) => t.language === l))
        .map((l) => ({ path: ['languages'], message: `the current consent (version ${consent.version}) has no text in "${l}": publish a consent version with it first` })),
      ...(change.languages
        ? campaign.rejectionReasons.flatMap((reason) => languages.filter((l) => !reason.texts.some((t) => t.language === l)).map((l) => ({ path: ['languages'], message: `the rejection reason "${reason.id}" has no text in "${l}"` })))
        : []),
      ...localisedIssues('titles', titles, languages),
      ...localisedIssues('prompts', prompts, languages),
      ...colourIssues(colours).map((issue) => ({ path: [issue.field], message: issue.message })),
      ...(opensAt && closesAt && opensAt >= closesAt ? [{ path: ['closesAt'], message: 'closesAt must be after opensAt' }] : []),
      ...actionKindIssues(change.actionKinds, languages),
    ];
    if (issues.length) throw invalidCampaign(issues);

    const set: Record<string, unknown> = {};
    if (change.name !== undefined) set.name = change.name;
    if (change.titles) set.titles = toLocalised(change.titles);
    if (change.prompts) set.prompts = toLocalised(change.prompts);
    if (change.languages) set.languages = change.languages;
    if (change.status) set.status = change.status;
    if (change.hashtags) set.hashtags = change.hashtags;
    if (change.opensAt !== undefined) set.opensAt = change.opensAt;
    if (change.closesAt !== undefined) set.closesAt = change.closesAt;
    if (change.checklistRequired !== undefined) set.checklistRequired = change.checklistRequired;
    if (change.actionKinds) set.actionKinds = change.actionKinds.map((k) => ({ id: k.id, texts: toLocalised(k.texts) }));
    if (change.actionDays) set.actionDays = [...new Set(change.actionDays)].sort();
    // Campaigns made before branding have no `branding` object: set its fields one by one so the logo stays.
    if (change.accentColour !== undefined) set['branding.accentColour'] = change.accentColour?.toLowerCase() ?? null;
    if (change.backgroundColour !== undefined) set['branding.backgroundColour'] = change.backgroundColour?.toLowerCase() ?? null;
    if (Object.keys(set).length === 0) throw invalidCampaign([{ path: [], message: 'nothing to change: give at least one field' }]);
    await db.campaigns.updateOne({ _id: campaign._id }, { $set: set });
    await appendAudit(db, { actor, action: 'campaign_updated', target: { kind: 'campaign', id: campaign.slug }, details: { fields: Object.keys(change).sort(), ...(change.status ? { status: change.status } : {}) } }, now);
    return findCampaign(db, slug);
  });
}

/** Action kinds: ids unique, each named in every language of the campaign. */
function actionKindIssues(kinds: Array<{ id: string; texts: Record<string, string> }> | undefined, languages: readonly string[]) {
  if (!kinds) return [];
  const seen = new Set<string>();
  const issues: Array<{ path: string[]; message: string }> = [];
  for (const kind of kinds) {
    if (seen.has(kind.id)) issues.push({ path: ['actionKinds'], message: `the action kind "${kind.id}" is listed twice` });
    seen.add(kind.id);
    for (const language of languages) if (!Object.hasOwn(kind.texts, language)) issues.push({ path: ['actionKinds'], message: `the action kind "${kind.id}" has no name in "${language}"` });
  }
  return issues;
}

export const consentVersionSchema = z.object({ consent: consentTextsSchema }).strict();

/**
 * Publishes a new consent version: appended, numbered one past the last. Earlier versions are never
 * touched, so a clip keeps the exact text its contributor agreed to (the review page and the release read
 * the version the submission recorded). New uploads must agree to the new version. Under the campaign's
 * lock (campaign-lock.ts): two admins publishing at once get n and n+1, never both n.
 */
export async function publishConsentVersion(db: Database, slug: string, input: unknown, now: Date, actor: Actor): Promise<ConsentVersion> {
  const { consent } = parseCampaignInput(consentVersionSchema, input);
  return withCampaignLock(db, slug, async () => {
      const campaign = await findCampaign(db, slug);
      const issues = consentIssues(consent, campaign.languages);
      if (issues.length) throw invalidCampaign(issues);
      const version: ConsentVersion = { version: currentConsent(campaign).version + 1, texts: consent, publishedAt: now };
      await db.campaigns.updateOne({ _id: campaign._id }, { $push: { consentVersions: version } });
      await appendAudit(db, { actor, action: 'consent_published', target: { kind: 'campaign', id: campaign.slug }, details: { version: version.version, languages: consent.map((t) => t.language) } }, now);
      return version;
  });
}

/**
 * Sets the campaign's logo: checked and cleaned (campaign-logo.ts), stored in our bucket under an opaque
 * key, served by this server at /c/<slug>/logo/<id>. The previous logo's object is removed.
 */
export async function setCampaignLogo(deps: { db: Database; storage: ObjectStorage }, slug: string, bytes: Buffer, now: Date, actor: Actor): Promise<CampaignLogo> {
  const checked = await checkLogo(bytes);
  return withCampaignLock(deps.db, slug, async () => {
    const campaign = await findCampaign(deps.db, slug);
    const id = randomBytes(8).toString('hex');
    const logo: CampaignLogo = { id, key: campaignLogoKey(campaign._id.toHexString(), id), contentType: checked.contentType, bytes: checked.body.length, width: checked.width, height: checked.height, uploadedAt: now };
    await deps.storage.upload(logo.key, checked.body, logo.contentType);
    await deps.db.campaigns.updateOne({ _id: campaign._id }, { $set: { 'branding.logo': logo } });
    const previous = campaign.branding?.logo;
    if (previous) await deps.storage.remove(previous.key).catch(() => undefined);
    await appendAudit(deps.db, { actor, action: 'campaign_logo_set', target: { kind: 'campaign', id: campaign.slug }, details: { type: logo.contentType, bytes: logo.bytes, width: logo.width, height: logo.height } }, now);
    return logo;
  });
}

/** The campaign's current logo, for the contributors' page; an old or unknown id is a 404. */
export async function openCampaignLogo(deps: { db: Database; storage: ObjectStorage }, slug: string, id: string): Promise<{ logo: CampaignLogo; body: Readable }> {
  const campaign = await findCampaign(deps.db, slug);
  const logo = campaign.branding?.logo;
  if (!logo || logo.id !== id) throw new AppError('not_found', 404, 'There is nothing at this address.');
  return { logo, body: await deps.storage.download(logo.key) };
}

/** Everything about a campaign an admin sees (the union links without their token hashes). */
export function adminCampaignView(campaign: Campaign, now: Date) {
  const logo = campaign.branding?.logo ?? null;
  return {
    slug: campaign.slug,
    name: campaign.name,
    status: campaign.status,
    open: isOpen(campaign, now),
    languages: campaign.languages,
    titles: fromLocalised(campaign.titles),
    prompts: fromLocalised(campaign.prompts),
    hashtags: campaign.hashtags ?? [],
    opensAt: campaign.opensAt,
    closesAt: campaign.closesAt,
    checklistRequired: campaign.checklistRequired,
    actionKinds: actionKindsOf(campaign).map((k) => ({ id: k.id, texts: fromLocalised(k.texts) })),
    actionDays: campaign.actionDays ?? [],
    branding: {
      logo: logo ? { url: campaignLogoPath(campaign.slug, logo.id), contentType: logo.contentType, bytes: logo.bytes, width: logo.width, height: logo.height } : null,
      accentColour: campaign.branding?.accentColour ?? null,
      backgroundColour: campaign.branding?.backgroundColour ?? null,
    },
    consentVersions: campaign.consentVersions.map((v) => ({ version: v.version, publishedAt: v.publishedAt, texts: v.texts })),
    unionLinks: (campaign.unionLinks ?? []).map((l) => ({ id: l.id, organisation: l.organisation, country: l.country, createdAt: l.createdAt, revokedAt: l.revokedAt })),
  };
}

/** Every campaign, oldest first (few documents: sorted here, FerretDB never pushes a sort down). */
export async function listCampaigns(db: Database): Promise<Campaign[]> {
  const campaigns = await db.campaigns.find().lean<Campaign[]>();
  return campaigns.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

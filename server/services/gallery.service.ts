import type { Readable } from 'node:stream';
import { Types } from 'mongoose';
import { z } from 'zod';
import { AppError } from '../../shared/errors';
import type { Campaign } from '../../shared/models/campaign.model';
import { releasePrefix } from '../../shared/storage/keys';
import type { Submission } from '../../shared/submissions/submission.model';
import type { ServerDeps } from '../deps';
import { RELEASE_USES, type ReleaseUse } from '../../shared/submissions/consent-scopes';
import { LANGUAGE_CODE } from './campaign.service';
import { postTexts } from './post-text';
import { zipStream, type ZipEntry } from './zip-stream';
import { describeFiles, type GalleryFile, type GalleryShape } from './release-files';

export { GALLERY_SHAPES, type GalleryShape } from './release-files';

/**
 * The social teams' gallery: released clips of the campaigns a person may work on, filtered by campaign,
 * language (spoken or captioned), country, release date and shape. The same service serves the pages
 * and the JSON API. What it shows never names the contributor: no contact, no original filename.
 */

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date like 2026-05-01').transform((text) => new Date(`${text}T00:00:00Z`)).refine((d) => !Number.isNaN(d.getTime()), 'not a date');
const blankAsMissing = (value: unknown) => (value === '' ? undefined : value);

export const galleryFilters = z
  .object({
    campaign: z.preprocess(blankAsMissing, z.string().regex(/^[a-z0-9-]{1,64}$/).optional()),
    language: z.preprocess(blankAsMissing, z.string().regex(LANGUAGE_CODE, 'a language code such as "be"').optional()),
    country: z.preprocess(blankAsMissing, z.string().regex(/^[A-Za-z]{2}$/, 'a two-letter country code').transform((c) => c.toUpperCase()).optional()),
    from: z.preprocess(blankAsMissing, day.optional()),
    to: z.preprocess(blankAsMissing, day.optional()),
    shape: z.preprocess(blankAsMissing, z.enum(['source', 'square', 'vertical']).optional()),
    /** What the clips are wanted for: only clips whose contributor agreed to that use are offered. */
    use: z.preprocess(blankAsMissing, z.enum(RELEASE_USES).default('social')),
  })
  .strip();

export type GalleryFilters = z.infer<typeof galleryFilters>;

/** Whose gallery: campaign slugs the person may work on; empty means every campaign. */
export interface GalleryScope {
  campaigns: readonly string[];
}

export interface GalleryItem {
  id: string;
  campaign: { slug: string; name: string };
  title: string;
  message: string;
  country: string;
  language: string;
  captionLanguages: string[];
  durationSeconds: number | null;
  releasedAt: Date;
  /** The uses the contributor agreed to. */
  uses: string[];
  /** A suggested post text per campaign language (post-text.ts). */
  postTexts: Record<string, string>;
  files: GalleryFile[];
}

type CampaignRef = Pick<Campaign, '_id' | 'slug' | 'name' | 'languages' | 'hashtags'>;

/** The campaigns in the person's scope (all when the scope is empty). */
export async function scopedCampaigns(deps: Pick<ServerDeps, 'db'>, scope: GalleryScope): Promise<CampaignRef[]> {
  const query = scope.campaigns.length > 0 ? { slug: { $in: [...scope.campaigns] } } : {};
  const found = await deps.db.campaigns.find(query).select({ slug: 1, name: 1, languages: 1, hashtags: 1 }).lean<CampaignRef[]>();
  return found.sort((a, b) => a.slug.localeCompare(b.slug));
}

type Listed = Pick<Submission, '_id' | 'campaignId' | 'title' | 'message' | 'country' | 'language' | 'media' | 'release' | 'organisation'>;

function postTextsOf(s: Pick<Submission, 'title' | 'message' | 'organisation' | 'release'>, campaign: CampaignRef): Record<string, string> {
  return postTexts({ message: s.message, title: s.title, organisation: s.organisation, credit: s.release?.credit === true, hashtags: campaign.hashtags ?? [] }, campaign.languages);
}

export async function listGallery(
  deps: Pick<ServerDeps, 'db'>,
  scope: GalleryScope,
  filters: GalleryFilters,
  options: { limit?: number } = {},
): Promise<{ items: GalleryItem[]; campaigns: CampaignRef[] }> {
  const campaigns = await scopedCampaigns(deps, scope);
  const shown = filters.campaign ? campaigns.filter((c) => c.slug === filters.campaign) : campaigns;
  if (shown.length === 0) return { items: [], campaigns };
  const releasedAt: Record<string, Date> = {};
  if (filters.from) releasedAt.$gte = filters.from;
  if (filters.to) releasedAt.$lt = new Date(filters.to.getTime() + 24 * 3600 * 1000);
  const query: Record<string, unknown> = { status: 'released', campaignId: { $in: shown.map((c) => c._id) }, 'release.uses': filters.use ?? 'social' };
  if (filters.country) query.country = filters.country;
  if (filters.language) query.$or = [{ language: filters.language }, { 'release.languages': filters.language }];
  if (Object.keys(releasedAt).length > 0) query['release.finishedAt'] = releasedAt;
  const found = await deps.db.submissions
    .find(query)
    .select({ campaignId: 1, title: 1, message: 1, country: 1, language: 1, media: 1, release: 1, organisation: 1 })
    .sort({ 'release.finishedAt': -1, _id: -1 })
    .limit(Math.max(1, Math.min(options.limit ?? 48, 200)))
    .lean<Listed[]>();
  const bySlug = new Map(campaigns.map((c) => [c._id.toHexString(), c]));
  const items = found.map((s): GalleryItem => {
    const campaign = bySlug.get(s.campaignId.toHexString())!;
    const id = s._id.toHexString();
    return {
      id,
      campaign: { slug: campaign.slug, name: campaign.name },
      title: s.title,
      message: s.message,
      country: s.country,
      language: s.language,
      captionLanguages: s.release?.languages ?? [],
      durationSeconds: s.media?.durationSeconds ?? null,
      releasedAt: s.release!.finishedAt!,
      uses: s.release?.uses ?? [],
      postTexts: postTextsOf(s, campaign),
      files: describeFiles(campaign.slug, id, s.release?.outputs ?? {}, filters.shape),
    };
  });
  return { items, campaigns };
}

function unavailable(): AppError {
  return new AppError('release_not_available', 404, 'This clip is not released (or was withdrawn): there is nothing to download.');
}

/**
 * One released clip in the person's scope, or 404 (also for a clip of another campaign: its existence is
 * not revealed). Every download and poster goes through here.
 */
export async function releasedInScope(
  deps: Pick<ServerDeps, 'db'>,
  scope: GalleryScope,
  id: string,
  use: ReleaseUse = 'social',
): Promise<{ submission: Pick<Submission, '_id' | 'status' | 'release' | 'title' | 'message' | 'organisation'>; campaign: CampaignRef }> {
  if (!Types.ObjectId.isValid(id) || !/^[a-f0-9]{24}$/.test(id)) throw unavailable();
  const submission = await deps.db.submissions
    .findById(id)
    .select({ status: 1, campaignId: 1, release: 1, title: 1, message: 1, organisation: 1 })
    .lean<Pick<Submission, '_id' | 'status' | 'release' | 'campaignId' | 'title' | 'message' | 'organisation'>>();
  if (!submission || submission.status !== 'released' || !submission.release) throw unavailable();
  // Only for a use the contributor agreed to (consent-scopes.ts).
  if (!(submission.release.uses ?? []).includes(use)) throw unavailable();
  const campaign = (await scopedCampaigns(deps, scope)).find((c) => c._id.equals(submission.campaignId));
  if (!campaign) throw unavailable();
  return { submission, campaign };
}

/** A poster of a released clip in scope, streamed through the server (pages allow images from 'self' only). */
export async function openPoster(deps: Pick<ServerDeps, 'db' | 'storage'>, scope: GalleryScope, id: string, shape: GalleryShape, use: ReleaseUse = 'social'): Promise<{ body: Readable; bytes: number }> {
  const { submission } = await releasedInScope(deps, scope, id, use);
  const object = submission.release!.outputs[`poster-${shape}`];
  if (!object || !object.key.startsWith(releasePrefix(id))) throw unavailable();
  return { body: await deps.storage.download(object.key), bytes: object.bytes };
}

export const ZIP_MAX_CLIPS = 50;

/**
 * A ZIP of a selection of released clips (the files of one shape, or all, plus each clip's post texts),
 * streamed from S3 through the archive to the response: one object open at a time, nothing buffered whole,
 * nothing on disk. Every clip is checked (released, in scope, agreed for the use) before a byte is sent.
 */
export async function zipSelection(
  deps: Pick<ServerDeps, 'db' | 'storage' | 'now'>,
  scope: GalleryScope,
  ids: readonly string[],
  options: { shape?: GalleryShape; use?: ReleaseUse },
): Promise<{ filename: string; stream: Readable }> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) throw new AppError('zip_empty', 400, 'Choose at least one clip.');
  if (unique.length > ZIP_MAX_CLIPS) throw new AppError('zip_too_many', 400, `Choose at most ${ZIP_MAX_CLIPS} clips at once.`, { details: { max: ZIP_MAX_CLIPS } });
  const entries: ZipEntry[] = [];
  for (const id of unique) {
    const { submission, campaign } = await releasedInScope(deps, scope, id, options.use ?? 'social');
    const outputs = submission.release!.outputs;
    for (const file of describeFiles(campaign.slug, id, outputs, options.shape)) {
      const key = outputs[file.output]!.key;
      if (!key.startsWith(releasePrefix(id))) throw unavailable();
      entries.push({ name: file.filename, open: () => deps.storage.download(key) });
    }
    for (const [language, text] of Object.entries(postTextsOf(submission, campaign))) {
      entries.push({ name: `solidarity-${campaign.slug}-${id}-post-${language}.txt`, open: async () => [Buffer.from(`${text}\n`, 'utf8')] });
    }
  }
  const now = deps.now();
  return { filename: `solidarity-clips-${now.toISOString().slice(0, 10)}.zip`, stream: zipStream(entries, now) };
}

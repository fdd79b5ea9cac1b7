import { AppError } from '../../shared/errors';
import type { Database } from '../../shared/db';
import { END_CARD_SECONDS, type Campaign, type CampaignRelease } from '../../shared/models/campaign.model';
import { campaignReleaseKey } from '../../shared/storage/keys';
import type { ObjectStorage } from '../../shared/storage/object-storage';
import { checkPngData, PNG_SIGNATURE, PngError, readPng } from './png-image';
import { appendAudit, type AuditEvent } from './audit.service';
import { CLI_ACTOR } from './campaign.service';

/**
 * A campaign's release branding (Campaign.release): an optional watermark — a small PNG logo the release
 * renders place in a corner, inside each shape's safe area — and an optional end card — a still PNG shown
 * for a few seconds, with silence, after the clip. Stored in S3 under the campaign's id; set and cleared
 * by the CLI. Only a still PNG, checked here whole (png-image.ts): what the renders read is a PNG.
 */

export type BrandingAsset = 'watermark' | 'end-card';

export const BRANDING_LIMITS = {
  watermark: { maxBytes: 1024 * 1024, maxSide: 2000 },
  'end-card': { maxBytes: 8 * 1024 * 1024, maxSide: 4096 },
  endCardSeconds: END_CARD_SECONDS,
} as const;

/** A PNG's size from its IHDR chunk, or null when the bytes are not a PNG. Pure. */
export function pngSize(bytes: Buffer): { width: number; height: number } | null {
  if (bytes.length < 33 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE) || bytes.toString('latin1', 12, 16) !== 'IHDR') return null;
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  return width > 0 && height > 0 ? { width, height } : null;
}

/**
 * A watermark or end card as it is stored: a still PNG within its limits, whole (every chunk's CRC right,
 * its pixel data exactly the size its header says — so a small file that would inflate to gigabytes in
 * every render is refused here), without its metadata (text, time and EXIF chunks dropped). Pure.
 */
export function checkBrandingImage(asset: BrandingAsset, bytes: Buffer): { width: number; height: number; body: Buffer } {
  const limits = BRANDING_LIMITS[asset];
  if (bytes.length > limits.maxBytes) throw new AppError('branding_too_large', 400, `The ${asset} file is larger than ${limits.maxBytes / 1024 / 1024} MiB.`);
  const size = pngSize(bytes);
  if (!size) throw new AppError('branding_not_png', 400, `The ${asset} must be a PNG file.`);
  // The size first: nothing of a picture too large is inflated.
  if (size.width > limits.maxSide || size.height > limits.maxSide) throw new AppError('branding_too_large', 400, `The ${asset} is ${size.width}×${size.height} pixels: at most ${limits.maxSide}×${limits.maxSide}.`);
  try {
    const png = readPng(bytes, { strict: true });
    checkPngData(png.header, png.idat);
    return { ...size, body: png.body };
  } catch (error) {
    if (!(error instanceof PngError)) throw error;
    if (error.reason === 'animated') throw new AppError('branding_animated', 400, `The ${asset} is an animated PNG: send a still picture.`);
    throw new AppError('branding_damaged', 400, `The ${asset} PNG is damaged: ${error.message}. Please export it again.`, { details: { problem: error.message } });
  }
}

async function campaignOf(db: Database, slug: string): Promise<Campaign> {
  const campaign = await db.campaigns.findOne({ slug }).lean<Campaign>();
  if (!campaign) throw new AppError('campaign_not_found', 404, `There is no campaign "${slug}".`, { details: { campaign: slug } });
  return campaign;
}

const current = (campaign: Campaign): CampaignRelease => campaign.release ?? { watermarkKey: null, endCardKey: null, endCardSeconds: BRANDING_LIMITS.endCardSeconds.default };

/** Stores a campaign's watermark or end card (replacing any) and records it; clips released from now on carry it. */
export async function setBranding(
  deps: { db: Database; storage: ObjectStorage },
  slug: string,
  asset: BrandingAsset,
  bytes: Buffer,
  options: { seconds?: number; actor?: AuditEvent['actor']; now?: Date } = {},
): Promise<CampaignRelease> {
  const campaign = await campaignOf(deps.db, slug);
  const { body } = checkBrandingImage(asset, bytes);
  const seconds = options.seconds ?? current(campaign).endCardSeconds;
  const { min, max } = BRANDING_LIMITS.endCardSeconds;
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) throw new AppError('branding_seconds_invalid', 400, `The end card lasts ${min} to ${max} whole seconds.`);
  const key = campaignReleaseKey(campaign._id.toHexString(), asset);
  await deps.storage.upload(key, body, 'image/png');
  const release = { ...current(campaign), ...(asset === 'watermark' ? { watermarkKey: key } : { endCardKey: key, endCardSeconds: seconds }) };
  await deps.db.campaigns.updateOne({ _id: campaign._id }, { $set: { release } }, { runValidators: true });
  const details = { campaign: slug, asset, bytes: body.length, ...(asset === 'end-card' ? { seconds } : {}) };
  await appendAudit(deps.db, { actor: options.actor ?? CLI_ACTOR, action: 'release_branding_set', target: { kind: 'campaign', id: campaign._id.toHexString() }, details }, options.now ?? new Date());
  return release;
}

/** Removes a campaign's watermark or end card. */
export async function clearBranding(deps: { db: Database; storage: ObjectStorage }, slug: string, asset: BrandingAsset, options: { actor?: AuditEvent['actor']; now?: Date } = {}): Promise<CampaignRelease> {
  const campaign = await campaignOf(deps.db, slug);
  const release = { ...current(campaign), ...(asset === 'watermark' ? { watermarkKey: null } : { endCardKey: null }) };
  await deps.db.campaigns.updateOne({ _id: campaign._id }, { $set: { release } }, { runValidators: true });
  await deps.storage.remove(campaignReleaseKey(campaign._id.toHexString(), asset));
  await appendAudit(deps.db, { actor: options.actor ?? CLI_ACTOR, action: 'release_branding_cleared', target: { kind: 'campaign', id: campaign._id.toHexString() }, details: { campaign: slug, asset } }, options.now ?? new Date());
  return release;
}

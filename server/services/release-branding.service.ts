import { AppError } from '../../shared/errors';
import type { Database } from '../../shared/db';
import type { Campaign, CampaignRelease } from '../../shared/models/campaign.model';
import { campaignReleaseKey } from '../../shared/storage/keys';
import type { ObjectStorage } from '../../shared/storage/object-storage';

/**
 * A campaign's release branding (Campaign.release): an optional watermark — a small PNG logo the release
 * renders place in a corner, inside each shape's safe area — and an optional end card — a still PNG shown
 * for a few seconds, with silence, after the clip. Stored in S3 under the campaign's id; set and cleared
 * by the CLI. Only PNG, checked here by its signature and header: what the renders read is a PNG.
 */

export type BrandingAsset = 'watermark' | 'end-card';

export const BRANDING_LIMITS = {
  watermark: { maxBytes: 1024 * 1024, maxSide: 2000 },
  'end-card': { maxBytes: 8 * 1024 * 1024, maxSide: 4096 },
  endCardSeconds: { min: 1, max: 10, default: 3 },
} as const;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG's size from its IHDR chunk, or null when the bytes are not a PNG. Pure. */
export function pngSize(bytes: Buffer): { width: number; height: number } | null {
  if (bytes.length < 33 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE) || bytes.toString('latin1', 12, 16) !== 'IHDR') return null;
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  return width > 0 && height > 0 ? { width, height } : null;
}

export function checkBrandingImage(asset: BrandingAsset, bytes: Buffer): { width: number; height: number } {
  const limits = BRANDING_LIMITS[asset];
  if (bytes.length > limits.maxBytes) throw new AppError('branding_too_large', 400, `The ${asset} file is larger than ${limits.maxBytes / 1024 / 1024} MiB.`);
  const size = pngSize(bytes);
  if (!size) throw new AppError('branding_not_png', 400, `The ${asset} must be a PNG file.`);
  if (size.width > limits.maxSide || size.height > limits.maxSide) throw new AppError('branding_too_large', 400, `The ${asset} is larger than ${limits.maxSide}×${limits.maxSide} pixels.`);
  return size;
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
  options: { seconds?: number } = {},
): Promise<CampaignRelease> {
  const campaign = await campaignOf(deps.db, slug);
  checkBrandingImage(asset, bytes);
  const seconds = options.seconds ?? current(campaign).endCardSeconds;
  const { min, max } = BRANDING_LIMITS.endCardSeconds;
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) throw new AppError('branding_seconds_invalid', 400, `The end card lasts ${min} to ${max} whole seconds.`);
  const key = campaignReleaseKey(campaign._id.toHexString(), asset);
  await deps.storage.upload(key, bytes, 'image/png');
  const release = { ...current(campaign), ...(asset === 'watermark' ? { watermarkKey: key } : { endCardKey: key, endCardSeconds: seconds }) };
  await deps.db.campaigns.updateOne({ _id: campaign._id }, { $set: { release } });
  return release;
}

/** Removes a campaign's watermark or end card. */
export async function clearBranding(deps: { db: Database; storage: ObjectStorage }, slug: string, asset: BrandingAsset): Promise<CampaignRelease> {
  const campaign = await campaignOf(deps.db, slug);
  const release = { ...current(campaign), ...(asset === 'watermark' ? { watermarkKey: null } : { endCardKey: null }) };
  await deps.db.campaigns.updateOne({ _id: campaign._id }, { $set: { release } });
  await deps.storage.remove(campaignReleaseKey(campaign._id.toHexString(), asset));
  return release;
}

import { AppError } from '../../shared/errors';
import { cleanImage, ImageError } from '../../shared/images/clean-image';
import type { CampaignLogo } from '../../shared/models/campaign.model';

/**
 * A campaign logo, checked and cleaned before it is stored, by the same code as photos
 * (shared/images/clean-image.ts): PNG, JPEG or WebP by its bytes (never by its name or the type the browser
 * claims), decoded and encoded again, so nothing but its pixels survives — no EXIF (a JPEG from a phone carries
 * GPS and the camera), no PNG text chunks, no WebP EXIF/XMP, no colour profile (converted to sRGB), nothing after
 * the image's end. It is stored as PNG when it has transparency or was a PNG or lossless WebP (flat colours stay
 * exact), else as JPEG; an animated WebP or PNG keeps its first frame. SVG is refused: it can carry script.
 * HEIC is refused too (nothing here decodes it). Limits: the file's size and each side, as before.
 */

export const LOGO_MAX_BYTES = 100 * 1024;
export const LOGO_MAX_SIDE = 2048;

export interface CheckedLogo {
  contentType: CampaignLogo['contentType'];
  width: number;
  height: number;
  /** The image, re-encoded without its metadata. */
  body: Buffer;
}

const refused = (message: string) => new AppError('logo_unsupported_type', 415, message);
const damaged = () => new AppError('logo_invalid', 400, 'The logo image is damaged or cut short. Please export it again as PNG, JPEG or WebP.');
const tooLarge = () => new AppError('logo_too_large', 413, `The logo is too large: at most ${LOGO_MAX_BYTES / 1024} KB (the contributors' page must stay light on phones).`, { details: { maxBytes: LOGO_MAX_BYTES } });

export async function checkLogo(bytes: Buffer): Promise<CheckedLogo> {
  try {
    const cleaned = await cleanImage(bytes, { kind: 'graphic', maxBytes: LOGO_MAX_BYTES, maxPixels: LOGO_MAX_SIDE * LOGO_MAX_SIDE, maxSide: LOGO_MAX_SIDE });
    return { contentType: cleaned.contentType, width: cleaned.width, height: cleaned.height, body: cleaned.body };
  } catch (error) {
    if (!(error instanceof ImageError)) throw error;
    switch (error.reason) {
      case 'empty':
        throw new AppError('logo_missing', 400, 'Choose an image file for the logo (PNG, JPEG or WebP).');
      case 'too_big':
        throw tooLarge();
      case 'too_many_pixels':
        throw new AppError('logo_too_large', 413, `The logo is ${String(error.details.width)}×${String(error.details.height)} pixels: at most ${LOGO_MAX_SIDE} on each side, please.`, { details: { maxSide: LOGO_MAX_SIDE } });
      case 'heic':
        throw refused('HEIC/HEIF images cannot be read here. Please send the logo as PNG, JPEG or WebP.');
      case 'unsupported_type':
        if (error.details.format === 'SVG') throw refused('SVG logos are refused: an SVG file can carry script. Please send the logo as PNG, JPEG or WebP.');
        throw refused('This file is not a PNG, JPEG or WebP image. Please send the logo in one of these formats.');
      case 'not_an_image':
        throw refused('This file is not a PNG, JPEG or WebP image. Please send the logo in one of these formats.');
      case 'damaged':
        throw damaged();
    }
  }
}

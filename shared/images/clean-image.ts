import sharp, { type Metadata, type SharpOptions } from 'sharp';

/**
 * Cleans an uploaded picture by decoding it and encoding it again (sharp, libvips), so nothing of the file
 * but its pixels survives: no EXIF (GPS, camera, serial numbers, maker notes), no embedded thumbnail (which
 * can still show what was cropped or painted over), no XMP or IPTC, no colour profile (the pixels are
 * converted to sRGB first), no comments, nothing after the image's end (a ZIP or a page appended to make a
 * polyglot). The picture is turned upright by its EXIF orientation (1–8) before the EXIF goes.
 *
 * The type is read from the bytes (JPEG, PNG, WebP), never from a name or a claimed type. HEIC/HEIF (the
 * iPhone's default) is refused with its own reason: sharp's prebuilt libvips decodes AVIF but has no HEVC
 * decoder (libheif says "Support for this compression format has not been built in: HEVC"; checked with
 * sharp 0.35.5, and test/unit/clean-image.test.ts fails if that changes). Caps come before decoding: the
 * file's size, then the pixel count and sides read from the header, so a small file claiming 20 000 × 20 000
 * pixels is refused without allocating them (and sharp's `limitInputPixels` is set as well).
 *
 * What comes out: PNG when the picture has an alpha channel (transparency would be lost in JPEG), and for
 * graphics from a lossless original (a logo from a PNG or lossless WebP: flat colours stay exact); JPEG
 * otherwise (photos). A palette PNG graphic stays a palette PNG when that loses nothing. An animated WebP or PNG
 * gives its first frame. Used by the campaign logo
 * (server/services/campaign-logo.ts); made for the action-report photos the worker will clean.
 */

export type ImageFormat = 'jpeg' | 'png' | 'webp';

/** Why a picture is refused; the message says it to the person who sent it. */
export type ImageRefusal = 'empty' | 'not_an_image' | 'unsupported_type' | 'heic' | 'too_big' | 'too_many_pixels' | 'damaged';

export class ImageError extends Error {
  constructor(
    readonly reason: ImageRefusal,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

export interface CleanImageOptions {
  /** The file's size cap, in bytes (checked before anything is read). */
  maxBytes: number;
  /** The picture's pixel cap (width × height, from its header, before decoding). */
  maxPixels: number;
  /** A cap on each side, when one is wanted (logos). */
  maxSide?: number;
  /** `photo`: JPEG unless there is an alpha channel. `graphic`: also PNG when the original was lossless (PNG, lossless WebP). */
  kind: 'photo' | 'graphic';
}

export interface CleanedImage {
  contentType: 'image/jpeg' | 'image/png';
  /** Upright size (after the EXIF orientation). */
  width: number;
  height: number;
  body: Buffer;
  /** The type the original was, by its bytes. */
  from: ImageFormat;
}

/** JPEG quality for re-encoded photos: visually the same as a phone's (≈ 90), without its metadata. */
export const JPEG_QUALITY = 88;

/** What the first bytes say a file is. Pure. */
export type Sniffed = { kind: ImageFormat } | { kind: 'heic' } | { kind: 'other-image'; name: string } | { kind: 'not-an-image' };

const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs', 'mif1', 'msf1', 'mif2']);

export function sniffImage(bytes: Buffer): Sniffed {
  const ascii = (from: number, to: number) => bytes.toString('latin1', from, to);
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a) return { kind: 'png' };
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return { kind: 'jpeg' };
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return { kind: 'webp' };
  if (bytes.length >= 12 && ascii(4, 8) === 'ftyp') {
    // ISO base media: the major brand, then compatible brands up to the box's end.
    const end = Math.min(bytes.readUInt32BE(0), bytes.length, 256);
    const brands = [ascii(8, 12), ...Array.from({ length: Math.max(0, Math.floor((end - 16) / 4)) }, (_, i) => ascii(16 + i * 4, 20 + i * 4))];
    if (brands.some((brand) => brand === 'avif' || brand === 'avis')) return { kind: 'other-image', name: 'AVIF' };
    if (brands.some((brand) => HEIF_BRANDS.has(brand))) return { kind: 'heic' };
    return { kind: 'not-an-image' };
  }
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return { kind: 'other-image', name: 'GIF' };
  if (ascii(0, 2) === 'BM') return { kind: 'other-image', name: 'BMP' };
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return { kind: 'other-image', name: 'TIFF' };
  if (bytes.length >= 12 && bytes.readUInt32BE(0) === 0x0000000c && ascii(4, 8) === 'jP  ') return { kind: 'other-image', name: 'JPEG 2000' };
  if (ascii(0, 2) === '\xff\x0a') return { kind: 'other-image', name: 'JPEG XL' };
  const head = bytes.subarray(0, 1024).toString('utf8').replace(/^\uFEFF/, '').trimStart().toLowerCase();
  if (head.startsWith('<') && (head.includes('<svg') || head.startsWith('<?xml') || head.startsWith('<!doctype svg'))) return { kind: 'other-image', name: 'SVG' };
  return { kind: 'not-an-image' };
}

const damaged = (format: ImageFormat) => new ImageError('damaged', `The ${format.toUpperCase()} image is damaged or cut short and cannot be read.`, { format });

/** A sharp failure in words: a pixel cap, or the file's own fault. */
function fromSharp(error: unknown, format: ImageFormat, maxPixels: number): ImageError {
  const message = (error as Error | null)?.message ?? '';
  if (/exceeds pixel limit/i.test(message)) return tooManyPixels(null, maxPixels);
  return damaged(format);
}

function tooManyPixels(size: { width: number; height: number } | null, maxPixels: number): ImageError {
  const what = size ? `${size.width} × ${size.height} pixels` : 'more pixels than allowed';
  return new ImageError('too_many_pixels', `The image is ${what}: at most ${(maxPixels / 1e6).toFixed(1)} million pixels.`, { ...size, maxPixels });
}

/**
 * Checks and cleans one picture (see above). Refusals are ImageErrors with a reason; nothing else is thrown
 * for anything the bytes contain.
 */
export async function cleanImage(bytes: Buffer, options: CleanImageOptions): Promise<CleanedImage> {
  if (bytes.length === 0) throw new ImageError('empty', 'The file is empty.');
  if (bytes.length > options.maxBytes) throw new ImageError('too_big', `The file is too large: at most ${Math.floor(options.maxBytes / 1024)} KB.`, { maxBytes: options.maxBytes });
  const sniffed = sniffImage(bytes);
  if (sniffed.kind === 'heic') {
    throw new ImageError('heic', 'HEIC/HEIF photos (the iPhone\'s default) cannot be read here. Please send it as JPEG: on the iPhone, Settings → Camera → Formats → Most Compatible, or share the photo from the Photos app, which converts it.', { format: 'heic' });
  }
  if (sniffed.kind === 'other-image') throw new ImageError('unsupported_type', `${sniffed.name} images are not accepted: please send a JPEG, PNG or WebP.`, { format: sniffed.name });
  if (sniffed.kind === 'not-an-image') throw new ImageError('not_an_image', 'This file is not an image: please send a JPEG, PNG or WebP.');
  const format = sniffed.kind;
  const input = { limitInputPixels: options.maxPixels, failOn: 'error', pages: 1 } as const;

  // The header only: the size is known before a pixel is decoded.
  // (No pixel limit on this read, so a picture over the cap is named with its size: nothing is decoded.)
  let header: Metadata;
  try {
    header = await sharp(bytes, { ...input, limitInputPixels: false }).metadata();
  } catch (error) {
    throw fromSharp(error, format, options.maxPixels);
  }
  // libvips found another type than the first bytes say (a file made to be read two ways): refused.
  if (header.format !== format || !header.width || !header.height) throw damaged(format);
  const turned = (header.orientation ?? 1) >= 5;
  const size = { width: turned ? header.height : header.width, height: turned ? header.width : header.height };
  if (size.width * size.height > options.maxPixels) throw tooManyPixels(size, options.maxPixels);
  if (options.maxSide && (size.width > options.maxSide || size.height > options.maxSide)) {
    throw new ImageError('too_many_pixels', `The image is ${size.width} × ${size.height} pixels: at most ${options.maxSide} on each side.`, { ...size, maxSide: options.maxSide });
  }

  const png = header.hasAlpha || (options.kind === 'graphic' && (format === 'png' || (format === 'webp' && isLosslessWebp(bytes))));
  try {
    // Upright by its EXIF orientation, in sRGB (its profile applied), 8 bits; written without any metadata
    // (sharp keeps none unless asked: no keepExif / keepIccProfile / withMetadata here).
    const pipeline = sharp(bytes, input).autoOrient().toColourspace('srgb');
    const { data, info } = await (png
      ? pipeline.png({ compressionLevel: 9, adaptiveFiltering: true })
      : pipeline.jpeg({ quality: JPEG_QUALITY, chromaSubsampling: '4:2:0' })
    ).toBuffer({ resolveWithObject: true });
    let body = png ? withoutPhys(data) : data;
    if (png && options.kind === 'graphic' && header.isPalette) body = (await asPalette(bytes, body, input)) ?? body;
    return { contentType: png ? 'image/png' : 'image/jpeg', width: info.width, height: info.height, body, from: format };
  } catch (error) {
    throw fromSharp(error, format, options.maxPixels);
  }
}

/**
 * A graphic that came as a palette PNG, written as one again (libimagequant at full quality, no dithering): half the
 * bytes of the full-colour PNG for a typical logo, which the contributors' page carries. Kept only when every
 * pixel is the same as the full-colour one's (it is when the picture has at most 256 colours); null otherwise.
 */
async function asPalette(bytes: Buffer, full: Buffer, input: SharpOptions): Promise<Buffer | null> {
  const data = await sharp(bytes, input).autoOrient().toColourspace('srgb').png({ palette: true, colours: 256, dither: 0, quality: 100, effort: 10, compressionLevel: 9 }).toBuffer();
  const palette = withoutPhys(data);
  if (palette.length >= full.length) return null;
  const [a, b] = await Promise.all([full, palette].map((png) => sharp(png).ensureAlpha().raw().toBuffer()));
  return a!.equals(b!) ? palette : null;
}

/** A WebP whose picture is VP8L (lossless), by its chunks. Pure. */
function isLosslessWebp(bytes: Buffer): boolean {
  for (let at = 12; at + 8 <= bytes.length; ) {
    const type = bytes.toString('latin1', at, at + 4);
    if (type === 'VP8L') return true;
    if (type === 'VP8 ' || type === 'ANMF') return false;
    const length = bytes.readUInt32LE(at + 4);
    at += 8 + length + (length % 2);
  }
  return false;
}

/**
 * libvips writes a pHYs chunk (a pixel density of its own, 1 000 per metre) into every PNG, and sharp has no
 * option to leave it out: removed from libvips's own output, so the PNG holds only IHDR, PLTE, tRNS, IDAT, IEND.
 */
function withoutPhys(png: Buffer): Buffer {
  const parts: Buffer[] = [png.subarray(0, 8)];
  for (let at = 8; at + 12 <= png.length; ) {
    const end = at + 12 + png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) !== 'pHYs') parts.push(png.subarray(at, end));
    at = end;
  }
  return Buffer.concat(parts);
}

/**
 * At start-up: sharp's prebuilt libvips is loaded and reads and writes what cleanImage needs (JPEG, PNG and
 * WebP in; JPEG and PNG out). Throws with what is missing; the caller turns it into a refusal to start.
 */
export async function checkImageLibrary(): Promise<void> {
  const pixel = { create: { width: 2, height: 2, channels: 3, background: '#a3001a' } } as const;
  const options: CleanImageOptions = { kind: 'graphic', maxBytes: 1 << 20, maxPixels: 4 };
  const inputs: Array<[ImageFormat, () => Promise<Buffer>]> = [
    ['jpeg', () => sharp(pixel).jpeg().toBuffer()],
    ['png', () => sharp(pixel).png().toBuffer()],
    ['webp', () => sharp(pixel).webp().toBuffer()],
  ];
  for (const [format, make] of inputs) {
    try {
      await cleanImage(await make(), options);
    } catch (error) {
      throw new Error(`sharp ${sharp.versions.sharp ?? '?'} (libvips ${sharp.versions.vips}) cannot clean a ${format.toUpperCase()} image: ${(error as Error).message}`, { cause: error });
    }
  }
}

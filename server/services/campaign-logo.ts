import { AppError } from '../../shared/errors';
import type { CampaignLogo } from '../../shared/models/campaign.model';
import { PNG_SIGNATURE, readPng } from './png-image';

/**
 * A campaign logo, checked before it is stored: PNG, JPEG or WebP by its bytes (never by its name or the
 * type the browser claims), its size read from its own header, and its metadata removed (a JPEG from a
 * phone carries GPS and the camera in EXIF; PNG text chunks and WebP EXIF/XMP can name people and places).
 * Only what draws the picture is kept (a list per format, never a list of what to drop), colour profiles
 * included; nothing after the image's end survives. SVG is refused: it can carry script. Pure: the bytes
 * in, the cleaned bytes out.
 */

export const LOGO_MAX_BYTES = 100 * 1024;
export const LOGO_MAX_SIDE = 2048;

export interface CheckedLogo {
  contentType: CampaignLogo['contentType'];
  width: number;
  height: number;
  /** The image without its metadata. */
  body: Buffer;
}

const refused = (message: string) => new AppError('logo_unsupported_type', 415, message);
const damaged = () => new AppError('logo_invalid', 400, 'The logo image is damaged or cut short. Please export it again as PNG, JPEG or WebP.');

export function checkLogo(bytes: Buffer): CheckedLogo {
  if (bytes.length === 0) throw new AppError('logo_missing', 400, 'Choose an image file for the logo (PNG, JPEG or WebP).');
  if (bytes.length > LOGO_MAX_BYTES) {
    throw new AppError('logo_too_large', 413, `The logo is too large: at most ${LOGO_MAX_BYTES / 1024} KB (the contributors' page must stay light on phones).`, { details: { maxBytes: LOGO_MAX_BYTES } });
  }
  let checked: CheckedLogo;
  try {
    if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) checked = cleanPng(bytes);
    else if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) checked = cleanJpeg(bytes);
    else if (bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') checked = cleanWebp(bytes);
    else if (looksLikeSvg(bytes)) throw refused('SVG logos are refused: an SVG file can carry script. Please send the logo as PNG, JPEG or WebP.');
    else throw refused('This file is not a PNG, JPEG or WebP image. Please send the logo in one of these formats.');
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw damaged();
  }
  if (checked.width < 1 || checked.height < 1) throw damaged();
  if (checked.width > LOGO_MAX_SIDE || checked.height > LOGO_MAX_SIDE) {
    throw new AppError('logo_too_large', 413, `The logo is ${checked.width}×${checked.height} pixels: at most ${LOGO_MAX_SIDE} on each side, please.`, { details: { maxSide: LOGO_MAX_SIDE } });
  }
  return checked;
}

function looksLikeSvg(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 1024).toString('utf8').replace(/^\uFEFF/, '').trimStart().toLowerCase();
  return head.startsWith('<') && (head.includes('<svg') || head.startsWith('<?xml') || head.startsWith('<!doctype svg'));
}

function cleanPng(bytes: Buffer): CheckedLogo {
  const { header, body } = readPng(bytes);
  return { contentType: 'image/png', width: header.width, height: header.height, body };
}

/**
 * APP segments kept for the picture's colours, by marker and the identifier their data starts with: JFIF
 * (APP0, rewritten without its thumbnail), an ICC colour profile (APP2) and Adobe's colour transform (APP14,
 * without which an RGB or CMYK JPEG decodes in the wrong colours). Every other APP segment — EXIF and XMP
 * (APP1), JFXX thumbnails, MPF and FlashPix (APP2), IPTC (APP13), makers' own — and comments are dropped.
 */
const JPEG_KEEP_APP = new Map([
  [0xe0, 'JFIF\0'],
  [0xe2, 'ICC_PROFILE\0'],
  [0xee, 'Adobe'],
]);
const JPEG_EOI = Buffer.from([0xff, 0xd9]);
const isRestart = (marker: number) => marker >= 0xd0 && marker <= 0xd7;

/** A kept segment as it is stored (JFIF without its thumbnail), or null when it is dropped. */
function keptJpegSegment(marker: number, segment: Buffer): Buffer | null {
  if (marker === 0xfe || (marker >= 0xe0 && marker <= 0xef)) {
    const id = JPEG_KEEP_APP.get(marker);
    if (!id || segment.toString('latin1', 4, 4 + id.length) !== id) return null;
    if (marker !== 0xe0) return segment;
    if (segment.length < 18) return null; // too short to be JFIF: dropped (a decoder does not need it)
    // JFIF: identifier, version, units, densities (14 bytes of data), then a thumbnail, written here as 0×0.
    const jfif = Buffer.from(segment.subarray(0, 18));
    jfif.writeUInt16BE(16, 2);
    jfif[16] = 0;
    jfif[17] = 0;
    return jfif;
  }
  return segment;
}

/**
 * Walks every segment, also between and after the scans (a progressive JPEG has several), and ends at the
 * end-of-image marker: whatever follows it (a second image with its own EXIF, a phone maker's trailer, a
 * file appended to make a polyglot) is dropped. No end marker: the file is cut short.
 */
function cleanJpeg(bytes: Buffer): CheckedLogo {
  const parts: Buffer[] = [bytes.subarray(0, 2)];
  let at = 2;
  let width = 0;
  let height = 0;
  for (;;) {
    if (at + 2 > bytes.length || bytes[at] !== 0xff) throw damaged();
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0xd9) break;
    if (marker === 0xd8 || marker === 0x01 || isRestart(marker) || at + 4 > bytes.length) throw damaged();
    const length = bytes.readUInt16BE(at + 2);
    const end = at + 2 + length;
    if (length < 2 || end > bytes.length) throw damaged();
    // Start of frame (not DHT C4, JPG C8, DAC CC): the picture's size.
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      if (length < 8) throw damaged();
      height = bytes.readUInt16BE(at + 5);
      width = bytes.readUInt16BE(at + 7);
    }
    if (marker === 0xda) {
      // Start of scan: its header, then compressed data up to the next marker (0xff followed by neither a
      // stuffed zero nor a restart marker).
      let next = end;
      for (;;) {
        next = bytes.indexOf(0xff, next);
        if (next < 0 || next + 1 >= bytes.length) throw damaged();
        const following = bytes[next + 1]!;
        if (following !== 0x00 && !isRestart(following)) break;
        next += 2;
      }
      parts.push(bytes.subarray(at, next));
      at = next;
      continue;
    }
    const kept = keptJpegSegment(marker, bytes.subarray(at, end));
    if (kept) parts.push(kept);
    at = end;
  }
  if (!width || !height) throw damaged();
  parts.push(JPEG_EOI);
  return { contentType: 'image/jpeg', width, height, body: Buffer.concat(parts) };
}

/** WebP chunks that draw the picture (and its colour and animation); EXIF, XMP and unknown chunks are dropped. */
const WEBP_KEEP = new Set(['VP8X', 'VP8 ', 'VP8L', 'ALPH', 'ANIM', 'ANMF', 'ICCP']);

/** Reads the chunks within the RIFF size (anything after the RIFF is not part of the file and is dropped). */
function cleanWebp(bytes: Buffer): CheckedLogo {
  const parts: Buffer[] = [];
  const riffEnd = Math.min(8 + bytes.readUInt32LE(4), bytes.length);
  let at = 12;
  let width = 0;
  let height = 0;
  let vp8x: Buffer | null = null;
  while (at + 8 <= riffEnd) {
    const type = bytes.toString('latin1', at, at + 4);
    const length = bytes.readUInt32LE(at + 4);
    const end = at + 8 + length + (length % 2);
    if (at + 8 + length > riffEnd) throw damaged();
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'VP8X') {
      vp8x = Buffer.from(bytes.subarray(at, Math.min(end, riffEnd)));
      vp8x[8] = vp8x[8]! & ~0x0c; // no EXIF, no XMP any more
      width = 1 + data.readUIntLE(4, 3);
      height = 1 + data.readUIntLE(7, 3);
      parts.push(vp8x);
    } else if (WEBP_KEEP.has(type)) {
      if (!vp8x && type === 'VP8 ') {
        if (data[3] !== 0x9d || data[4] !== 0x01 || data[5] !== 0x2a) throw damaged();
        width = data.readUInt16LE(6) & 0x3fff;
        height = data.readUInt16LE(8) & 0x3fff;
      } else if (!vp8x && type === 'VP8L') {
        if (data[0] !== 0x2f) throw damaged();
        const bits = data.readUInt32LE(1);
        width = (bits & 0x3fff) + 1;
        height = ((bits >> 14) & 0x3fff) + 1;
      }
      parts.push(bytes.subarray(at, Math.min(end, riffEnd)));
    }
    at = end;
  }
  if (!width || !height) throw damaged();
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length + 4, 4);
  header.write('WEBP', 8, 'latin1');
  return { contentType: 'image/webp', width, height, body: Buffer.concat([header, body]) };
}

import { crc32, inflateSync } from 'node:zlib';

/**
 * A PNG read chunk by chunk, for the release watermarks and end cards staff upload (campaign logos are decoded
 * and re-encoded instead: shared/images/clean-image.ts): its header, and the file again with only the chunks
 * that draw the picture (and its colour) — text, time, EXIF and anything unknown dropped, nothing after IEND. Pure.
 */

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Chunks that draw the picture (and its colour); text, time, EXIF and anything unknown are dropped. */
const PNG_KEEP = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'gAMA', 'cHRM', 'sRGB', 'iCCP', 'sBIT', 'pHYs', 'bKGD']);
/** An animated PNG's chunks: a decoder that knows them plays frames that are not the picture checked here. */
const APNG_CHUNKS = new Set(['acTL', 'fcTL', 'fdAT']);

/** Why a PNG is refused: damaged (cut short, a chunk's CRC wrong, pixel data of the wrong size) or not a still. */
export class PngError extends Error {
  constructor(readonly reason: 'damaged' | 'animated', message: string) {
    super(message);
    this.name = 'PngError';
  }
}

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
}

const damaged = (why: string) => new PngError('damaged', why);

/** Bit depths allowed for each colour type (PNG spec, table 11.1), and its channels. */
const COLOUR_TYPES: Record<number, { depths: number[]; channels: number }> = {
  0: { depths: [1, 2, 4, 8, 16], channels: 1 },
  2: { depths: [8, 16], channels: 3 },
  3: { depths: [1, 2, 4, 8], channels: 1 },
  4: { depths: [8, 16], channels: 2 },
  6: { depths: [8, 16], channels: 4 },
};

/**
 * Walks the chunks from the signature to IEND. `strict` (release branding): every chunk's CRC is checked,
 * the header's fields must be valid, and an animated PNG is refused; without it only the
 * structure is. Returns the header, the cleaned file, and the picture's compressed data (every IDAT).
 */
export function readPng(bytes: Buffer, options: { strict?: boolean } = {}): { header: PngHeader; body: Buffer; idat: Buffer } {
  if (bytes.length < 8 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE)) throw damaged('not a PNG');
  const parts: Buffer[] = [PNG_SIGNATURE];
  const idat: Buffer[] = [];
  let header: PngHeader | null = null;
  let at = 8;
  for (;;) {
    if (at + 12 > bytes.length) throw damaged('cut short before its end');
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const end = at + 12 + length;
    if (end > bytes.length) throw damaged(`the ${type} chunk is cut short`);
    if (options.strict && crc32(bytes.subarray(at + 4, end - 4)) !== bytes.readUInt32BE(end - 4)) throw damaged(`the ${type} chunk is damaged (its CRC is wrong)`);
    if (at === 8) {
      if (type !== 'IHDR' || length !== 13) throw damaged('no header');
      header = { width: bytes.readUInt32BE(at + 8), height: bytes.readUInt32BE(at + 12), bitDepth: bytes[at + 16]!, colorType: bytes[at + 17]!, interlaced: bytes[at + 20] === 1 };
      const colour = COLOUR_TYPES[header.colorType];
      if (options.strict && (!colour?.depths.includes(header.bitDepth) || bytes[at + 18] !== 0 || bytes[at + 19] !== 0 || bytes[at + 20]! > 1)) throw damaged('its header is not valid');
    } else if (type === 'IHDR') throw damaged('two headers');
    if (options.strict && APNG_CHUNKS.has(type)) throw new PngError('animated', 'an animated PNG');
    if (PNG_KEEP.has(type)) parts.push(bytes.subarray(at, end));
    if (type === 'IDAT') idat.push(bytes.subarray(at + 8, end - 4));
    at = end;
    if (type === 'IEND') break;
  }
  return { header: header!, body: Buffer.concat(parts), idat: Buffer.concat(idat) };
}

/** The bytes the picture's data inflates to: per row (per Adam7 pass when interlaced) a filter byte and the pixels. */
export function pngDataSize(header: PngHeader): number {
  const bits = header.bitDepth * (COLOUR_TYPES[header.colorType]?.channels ?? 4);
  const rows = (width: number, height: number) => (width > 0 && height > 0 ? height * (1 + Math.ceil((width * bits) / 8)) : 0);
  if (!header.interlaced) return rows(header.width, header.height);
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;
  return passes.reduce((sum, [x, y, dx, dy]) => sum + rows(Math.ceil((header.width - x) / dx), Math.ceil((header.height - y) / dy)), 0);
}

/**
 * Inflates the picture's data, never to more than its header says it holds, and checks it is exactly that
 * much: a small file whose data inflates to gigabytes (a decompression bomb) is refused after reading no
 * more than the picture's own size, instead of making every decoder that reads it inflate it all.
 */
export function checkPngData(header: PngHeader, idat: Buffer): void {
  const expected = pngDataSize(header);
  let inflated: Buffer;
  try {
    inflated = inflateSync(idat, { maxOutputLength: expected + 1 });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw damaged('its pixel data is larger than its size says (a decompression bomb?)');
    throw damaged('its pixel data cannot be read');
  }
  if (inflated.length !== expected) throw damaged(`its pixel data is ${inflated.length > expected ? 'larger' : 'smaller'} than its size says`);
}

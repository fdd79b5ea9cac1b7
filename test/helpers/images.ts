import { deflateSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { makeFixture } from './fixtures';

/** Small images for the logo tests: PNGs written here (with the chunks a test needs), JPEGs by ffmpeg. */

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data and its CRC. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A valid RGB PNG of one colour; `text` adds a tEXt chunk (metadata the logo check must remove). */
export function makePng(width: number, height: number, options: { rgb?: [number, number, number]; text?: string } = {}): Buffer {
  const [r, g, b] = options.rgb ?? [200, 20, 40];
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => [r, g, b]).flat())]);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    ...(options.text ? [pngChunk('tEXt', Buffer.from(`Comment\0${options.text}`, 'latin1'))] : []),
    pngChunk('IDAT', deflateSync(pixels)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A JPEG segment: its marker (0xffe1 …) and payload, the length written here. */
export function jpegSegment(marker: number, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const head = Buffer.alloc(4);
  head.writeUInt16BE(marker, 0);
  head.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([head, data]);
}

/** A JPEG of one colour made by ffmpeg (baseline: JFIF, tables, one scan, EOI). */
export async function makeJpeg(width: number, height: number): Promise<Buffer> {
  return readFile(await makeFixture(`logo-${width}x${height}.jpg`, ['-f', 'lavfi', '-i', `color=c=0x2050a0:s=${width}x${height}`, '-frames:v', '1']));
}

/** A JPEG made by ffmpeg, with an EXIF segment (APP1) carrying `exifText` put in after the start marker. */
export async function makeJpegWithExif(width: number, height: number, exifText: string): Promise<Buffer> {
  const jpeg = await makeJpeg(width, height);
  return Buffer.concat([jpeg.subarray(0, 2), jpegSegment(0xffe1, `Exif\0\0${exifText}`), jpeg.subarray(2)]);
}

/** A RIFF chunk (padded to an even length). */
export function riffChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(type, 0, 'latin1');
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/** A WebP file of these chunks, its RIFF size right. */
export function webpFile(chunks: Buffer[]): Buffer {
  const body = Buffer.concat(chunks);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length + 4, 4);
  header.write('WEBP', 8, 'latin1');
  return Buffer.concat([header, body]);
}

/**
 * A real lossless WebP (its VP8L chunk encoded by sharp) in an extended container with EXIF and XMP chunks
 * carrying `secret`, and `extra` chunks after them.
 */
export async function makeWebpWithMetadata(width: number, height: number, secret: string, extra: Buffer[] = []): Promise<Buffer> {
  const simple = await sharp({ create: { width, height, channels: 3, background: { r: 30, g: 90, b: 160 } } }).webp({ lossless: true }).toBuffer();
  const vp8x = Buffer.alloc(10);
  vp8x[0] = 0x08 | 0x04; // EXIF and XMP present
  vp8x.writeUIntLE(width - 1, 4, 3);
  vp8x.writeUIntLE(height - 1, 7, 3);
  // The simple file is RIFF, WEBP, then its one VP8L chunk.
  return webpFile([riffChunk('VP8X', vp8x), simple.subarray(12), riffChunk('EXIF', Buffer.from(secret)), riffChunk('XMP ', Buffer.from(`<x>${secret}</x>`)), ...extra]);
}

export const SVG_LOGO = Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>');

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkLogo } from '../../server/services/campaign-logo';
import sharp from 'sharp';
import { pngChunks, structureProblems } from '../helpers/image-structure';
import { jpegSegment, makeJpeg, makeJpegWithExif, makePng, makeWebpWithMetadata, riffChunk, webpFile } from '../helpers/images';
import { corners, jpegOf } from '../helpers/photos';

/**
 * The logo's metadata removal (it is decoded and re-encoded: shared/images/clean-image.ts), tried where
 * metadata hides besides the obvious places (after the scan, after the end of the image, in APP segments a
 * chunk-by-chunk cleaner would keep for their colour information, in unknown WebP chunks), and damaged files:
 * each is a clear `logo_invalid`, never a crash. Every output's segments or chunks are walked.
 */

const SECRET = 'GPS 53.9023 27.5619 Pixel-8 serial 4C1234';
const EOI = Buffer.from([0xff, 0xd9]);

/** Every pixel of the cleaned JPEG, decoded by ffmpeg, which must not complain. */
async function decodes(jpeg: Buffer, width: number, height: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'logo-unit-'));
  try {
    await writeFile(join(dir, 'logo.jpg'), jpeg);
    const { stdout, stderr } = await promisify(execFile)('ffmpeg', ['-v', 'error', '-xerror', '-i', join(dir, 'logo.jpg'), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { encoding: 'buffer', maxBuffer: 1 << 22 });
    expect(stderr.toString()).toBe('');
    expect(stdout.length).toBe(width * height * 3);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('JPEG logo metadata', () => {
  let jpeg: Buffer;
  beforeAll(async () => {
    jpeg = await makeJpeg(64, 32);
  });
  const beforeEoi = (extra: Buffer[]) => Buffer.concat([jpeg.subarray(0, -2), ...extra, EOI]);
  const afterSoi = (extra: Buffer[]) => Buffer.concat([jpeg.subarray(0, 2), ...extra, jpeg.subarray(2)]);

  const cases: Array<[string, () => Promise<Buffer>]> = [
    ['a second image after the end of the first, with its own EXIF (MPF, gain maps)', async () => Buffer.concat([afterSoi([jpegSegment(0xffe2, 'MPF\0II*\0')]), await makeJpegWithExif(16, 16, SECRET)])],
    ['a trailer after the end of the image (a phone maker\'s, or a page for a polyglot)', async () => Buffer.concat([jpeg, Buffer.from(`SEFH ${SECRET} <html><script>alert(1)</script>`)])],
    ['a comment and XMP after the scan', async () => beforeEoi([jpegSegment(0xfffe, SECRET), jpegSegment(0xffe1, `http://ns.adobe.com/xap/1.0/\0<x>${SECRET}</x>`)])],
    ['a JFXX thumbnail in APP0', async () => afterSoi([jpegSegment(0xffe0, Buffer.concat([Buffer.from('JFXX\0\x13', 'latin1'), Buffer.from(SECRET)]))])],
    ['a thumbnail in the JFIF segment', async () => {
      // JFIF 1.02, no units, 1:1, and a 14×1 RGB thumbnail (42 bytes), the secret in its pixels.
      const thumb = Buffer.alloc(42, 0x20);
      thumb.write(SECRET.slice(0, 42), 'latin1');
      return afterSoi([jpegSegment(0xffe0, Buffer.concat([Buffer.from('JFIF\0\x01\x02\0\0\x01\0\x01\x0e\x01', 'latin1'), thumb]))]);
    }],
    ['FlashPix data in APP2', async () => afterSoi([jpegSegment(0xffe2, `FPXR\0\0${SECRET}`)])],
    ['something other than Adobe\'s transform in APP14', async () => afterSoi([jpegSegment(0xffee, `Ducky\0${SECRET}`)])],
    ['every other APP segment (APP1 … APP15) and a comment before the frame', async () =>
      afterSoi([0xe1, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xef, 0xfe].map((m) => jpegSegment(0xff00 | m, `${m.toString(16)} ${SECRET}`)))],
  ];
  test.each(cases.map(([what, make]) => ({ what, make })))('when a JPEG carries $what, then it is removed and the image still decodes whole', async ({ make }) => {
    const input = await make();
    expect(input.includes(SECRET.slice(0, 20))).toBe(true);
    const checked = await checkLogo(input);
    expect(structureProblems(checked.body)).toEqual([]);
    expect([checked.contentType, checked.width, checked.height]).toEqual(['image/jpeg', 64, 32]);
    expect(checked.body.includes(SECRET.slice(0, 20))).toBe(false);
    expect(checked.body.subarray(-2)).toEqual(EOI);
    await decodes(checked.body, 64, 32);
  });

  test('when a JPEG has a colour profile and Adobe\'s colour transform, then its colours are converted to sRGB and neither segment stays', async () => {
    const adobe = Buffer.from('Adobe\0\x64\0\0\0\0\x01', 'latin1');
    const flat = { data: Buffer.alloc(16 * 16 * 3), width: 16, height: 16 };
    for (let i = 0; i < flat.data.length; i += 3) flat.data.set([200, 60, 40], i);
    const checked = await checkLogo(await jpegOf(flat, [jpegSegment(0xffee, adobe)], { icc: 'p3' }));
    expect(structureProblems(checked.body)).toEqual([]);
    expect(checked.body.includes('ICC_PROFILE')).toBe(false);
    expect(checked.body.includes(adobe)).toBe(false);
    const { topLeft } = await corners(checked.body);
    expect(topLeft.every((v, i) => Math.abs(v - [200, 60, 40][i]!) <= 6)).toBe(true);
  });

  test.each([
    ['a scan that runs to the end without an end marker', () => jpeg.subarray(0, -2)],
    ['a scan cut in the middle', () => jpeg.subarray(0, jpeg.length - 40)],
    ['a segment whose length runs past the end', () => Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 0x45, 0x78])],
    ['a frame header too short to hold a size', () => Buffer.concat([jpeg.subarray(0, 2), jpegSegment(0xffc0, Buffer.from([8, 0]))])],
    ['nothing but markers', () => Buffer.from([0xff, 0xd8, 0xff, 0xff, 0xff, 0xd9])],
  ])('when a JPEG has %s, then logo_invalid, not a crash', async (_what, make) => {
    await expect(checkLogo(make())).rejects.toThrow(expect.objectContaining({ code: 'logo_invalid', status: 400 }));
  });
});

describe('WebP logo metadata', () => {
  test('when a WebP carries chunks it does not need (unknown ones, a chunk after the RIFF end), then none of them comes out', async () => {
    const input = Buffer.concat([await makeWebpWithMetadata(30, 20, SECRET, [riffChunk('META', Buffer.from(SECRET)), riffChunk('IPTC', Buffer.from(SECRET))]), riffChunk('ICCP', Buffer.from(`after the RIFF end ${SECRET}`))]);
    const checked = await checkLogo(input);
    expect([checked.contentType, checked.width, checked.height]).toEqual(['image/png', 30, 20]);
    expect(checked.body.includes(SECRET)).toBe(false);
    expect(structureProblems(checked.body)).toEqual([]);
  });

  test('when a WebP has transparency, then it is stored as a PNG that keeps it; a lossy WebP without it as a JPEG', async () => {
    const alpha = await sharp({ create: { width: 10, height: 10, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0.25 } } }).webp().toBuffer();
    const checked = await checkLogo(alpha);
    expect([checked.contentType, (await sharp(checked.body).metadata()).hasAlpha]).toEqual(['image/png', true]);
    const lossy = await checkLogo(await sharp({ create: { width: 10, height: 10, channels: 3, background: '#123456' } }).webp().toBuffer());
    expect(lossy.contentType).toBe('image/jpeg');
    expect(structureProblems(lossy.body)).toEqual([]);
  });

  test.each([
    ['a chunk whose length runs past the end', async () => {
      const bad = await makeWebpWithMetadata(30, 20, 'x');
      bad.writeUInt32LE(0xfffffff0, 16);
      return bad;
    }],
    ['a picture chunk cut in half', async () => (await makeWebpWithMetadata(30, 20, 'x')).subarray(0, 40)],
    ['a VP8X chunk too short to hold a size', async () => webpFile([riffChunk('VP8X', Buffer.from([0, 0, 0, 0]))])],
    ['no picture at all', async () => webpFile([riffChunk('EXIF', Buffer.from(SECRET))])],
  ])('when a WebP has %s, then logo_invalid, not a crash', async (_what, make) => {
    await expect(checkLogo(await make())).rejects.toThrow(expect.objectContaining({ code: 'logo_invalid', status: 400 }));
  });
});

describe('PNG logo metadata', () => {
  test.each([
    ['a chunk length of nearly 4 GB', (png: Buffer) => Buffer.concat([png.subarray(0, 33), Buffer.from([0xff, 0xff, 0xff, 0xf0]), Buffer.from('tEXt')])],
    ['a chunk header cut in two', (png: Buffer) => png.subarray(0, 35)],
    ['its pixel data cut short (and no end chunk)', (png: Buffer) => png.subarray(0, -20)],
    ['an IHDR too short to hold a size', (png: Buffer) => Buffer.concat([png.subarray(0, 8), Buffer.from([0, 0, 0, 2]), Buffer.from('IHDR'), Buffer.from([0, 1]), Buffer.alloc(4), png.subarray(-12)])],
  ])('when a PNG has %s, then logo_invalid, not a crash', async (_what, make) => {
    await expect(checkLogo(make(makePng(8, 8)))).rejects.toThrow(expect.objectContaining({ code: 'logo_invalid', status: 400 }));
  });

  test('when a PNG has no end chunk but its picture is whole, then it is read (as libpng does), and stored with one', async () => {
    const checked = await checkLogo(makePng(8, 8).subarray(0, -12));
    expect(pngChunks(checked.body)).toMatchObject({ trailing: 0 });
    expect(pngChunks(checked.body).chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
  });

  test('when a PNG has text, time, EXIF and data after its end, then only the picture is kept', async () => {
    const png = makePng(8, 8);
    const chunk = (type: string, data: string) => {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(data.length, 0);
      head.write(type, 4, 'latin1');
      return Buffer.concat([head, Buffer.from(data, 'latin1'), Buffer.alloc(4)]);
    };
    const input = Buffer.concat([png.subarray(0, 33), chunk('tEXt', `Author\0${SECRET}`), chunk('zTXt', SECRET), chunk('iTXt', `XML:com.adobe.xmp\0\0\0\0\0${SECRET}`), chunk('eXIf', SECRET), chunk('tIME', '1234567'), png.subarray(33), Buffer.from(SECRET)]);
    const checked = await checkLogo(input);
    expect(checked.body.includes(SECRET)).toBe(false);
    expect(pngChunks(checked.body).chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(pngChunks(checked.body).trailing).toBe(0);
    // The same pixels as the PNG without any of it.
    expect(await sharp(checked.body).raw().toBuffer()).toEqual(await sharp(png).raw().toBuffer());
  });
});

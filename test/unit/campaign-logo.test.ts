import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkLogo } from '../../server/services/campaign-logo';
import { jpegSegment, makeJpeg, makeJpegWithExif, makePng, makeWebpWithMetadata, riffChunk, webpFile } from '../helpers/images';

/**
 * The logo's metadata removal, tried where metadata hides besides the obvious places (after the scan, after
 * the end of the image, in APP segments kept for their colour information, in unknown WebP chunks), and
 * damaged files: each is a clear `logo_invalid`, never a crash.
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
    const checked = checkLogo(input);
    expect([checked.contentType, checked.width, checked.height]).toEqual(['image/jpeg', 64, 32]);
    expect(checked.body.includes(SECRET.slice(0, 20))).toBe(false);
    expect(checked.body.subarray(-2)).toEqual(EOI);
    await decodes(checked.body, 64, 32);
  });

  test('when a JPEG has an ICC profile and Adobe\'s colour transform, then both stay (they are colour, not metadata), and the JFIF segment stays without a thumbnail', () => {
    const adobe = Buffer.from('Adobe\0\x64\0\0\0\0\x01', 'latin1');
    const checked = checkLogo(afterSoi([jpegSegment(0xffe2, 'ICC_PROFILE\0\x01\x01profile-bytes'), jpegSegment(0xffee, adobe)]));
    expect(checked.body.includes('ICC_PROFILE\0\x01\x01profile-bytes')).toBe(true);
    expect(checked.body.includes(adobe)).toBe(true);
    expect(checked.body.includes('JFIF\0')).toBe(true);
  });

  test.each([
    ['a scan that runs to the end without an end marker', () => jpeg.subarray(0, -2)],
    ['a scan cut in the middle', () => jpeg.subarray(0, jpeg.length - 40)],
    ['a segment whose length runs past the end', () => Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 0x45, 0x78])],
    ['a frame header too short to hold a size', () => Buffer.concat([jpeg.subarray(0, 2), jpegSegment(0xffc0, Buffer.from([8, 0]))])],
    ['nothing but markers', () => Buffer.from([0xff, 0xd8, 0xff, 0xff, 0xff, 0xd9])],
  ])('when a JPEG has %s, then logo_invalid, not a crash', (_what, make) => {
    expect(() => checkLogo(make())).toThrow(expect.objectContaining({ code: 'logo_invalid', status: 400 }));
  });
});

describe('WebP logo metadata', () => {
  test('when a WebP carries chunks it does not need (unknown ones, a chunk after the RIFF end), then they are removed and the RIFF size is right', () => {
    const input = Buffer.concat([makeWebpWithMetadata(30, 20, 'x', [riffChunk('META', Buffer.from(SECRET)), riffChunk('IPTC', Buffer.from(SECRET))]), riffChunk('ICCP', Buffer.from(`after the RIFF end ${SECRET}`))]);
    const checked = checkLogo(input);
    expect([checked.contentType, checked.width, checked.height]).toEqual(['image/webp', 30, 20]);
    expect(checked.body.includes(SECRET)).toBe(false);
    expect(checked.body.readUInt32LE(4)).toBe(checked.body.length - 8);
    expect(checked.body.includes('VP8L')).toBe(true);
  });

  test('when a WebP has an ICC profile, an alpha channel or animation chunks, then they stay', () => {
    const vp8x = Buffer.alloc(10);
    vp8x[0] = 0x20 | 0x10; // ICC, alpha
    vp8x.writeUIntLE(9, 4, 3);
    vp8x.writeUIntLE(9, 7, 3);
    const vp8l = Buffer.from([0x2f, 9, 0x40, 0x02, 0]);
    const checked = checkLogo(webpFile([riffChunk('VP8X', vp8x), riffChunk('ICCP', Buffer.from('icc')), riffChunk('ALPH', Buffer.from([0, 1])), riffChunk('VP8L', vp8l)]));
    expect(['ICCP', 'ALPH', 'VP8L'].every((type) => checked.body.includes(type))).toBe(true);
    expect([checked.width, checked.height]).toEqual([10, 10]);
  });

  test.each([
    ['a chunk whose length runs past the end', () => {
      const bad = makeWebpWithMetadata(30, 20, 'x');
      bad.writeUInt32LE(0xfffffff0, 16);
      return bad;
    }],
    ['a RIFF size smaller than its picture', () => {
      const bad = makeWebpWithMetadata(30, 20, 'x');
      bad.writeUInt32LE(4, 4);
      return bad;
    }],
    ['a VP8X chunk too short to hold a size', () => webpFile([riffChunk('VP8X', Buffer.from([0, 0, 0, 0]))])],
    ['no picture at all', () => webpFile([riffChunk('EXIF', Buffer.from(SECRET))])],
  ])('when a WebP has %s, then logo_invalid, not a crash', (_what, make) => {
    expect(() => checkLogo(make())).toThrow(expect.objectContaining({ code: 'logo_invalid', status: 400 }));
  });
});

describe('PNG logo metadata', () => {
  test.each([
    ['a chunk length of nearly 4 GB', (png: Buffer) => Buffer.concat([png.subarray(0, 33), Buffer.from([0xff, 0xff, 0xff, 0xf0]), Buffer.from('tEXt')])],
    ['a chunk header cut in two', (png: Buffer) => png.subarray(0, 35)],
    ['no end chunk', (png: Buffer) => png.subarray(0, -12)],
    ['an IHDR too short to hold a size', (png: Buffer) => Buffer.concat([png.subarray(0, 8), Buffer.from([0, 0, 0, 2]), Buffer.from('IHDR'), Buffer.from([0, 1]), Buffer.alloc(4), png.subarray(-12)])],
  ])('when a PNG has %s, then logo_invalid, not a crash', (_what, make) => {
    expect(() => checkLogo(make(makePng(8, 8)))).toThrow(expect.objectContaining({ code: 'logo_invalid', status: 400 }));
  });

  test('when a PNG has text, time, EXIF and data after its end, then only the picture is kept', () => {
    const png = makePng(8, 8);
    const chunk = (type: string, data: string) => {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(data.length, 0);
      head.write(type, 4, 'latin1');
      return Buffer.concat([head, Buffer.from(data, 'latin1'), Buffer.alloc(4)]);
    };
    const input = Buffer.concat([png.subarray(0, 33), chunk('tEXt', `Author\0${SECRET}`), chunk('zTXt', SECRET), chunk('iTXt', `XML:com.adobe.xmp\0\0\0\0\0${SECRET}`), chunk('eXIf', SECRET), chunk('tIME', '1234567'), png.subarray(33), Buffer.from(SECRET)]);
    const checked = checkLogo(input);
    expect(checked.body.includes(SECRET)).toBe(false);
    expect(checked.body.includes('tIME')).toBe(false);
    expect(checked.body).toEqual(png);
  });
});

import { deflateSync } from 'node:zlib';
import { checkBrandingImage } from '../../server/services/release-branding.service';
import { pngDataSize } from '../../server/services/png-image';
import { makePng, pngChunk } from '../helpers/images';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG from its header's fields and raw (filtered) pixel data, with extra chunks before IDAT. */
function png(width: number, height: number, data: Buffer, options: { colorType?: number; bitDepth?: number; interlace?: number; before?: Buffer[] } = {}): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = options.bitDepth ?? 8;
  ihdr[9] = options.colorType ?? 0;
  ihdr[12] = options.interlace ?? 0;
  return Buffer.concat([SIGNATURE, pngChunk('IHDR', ihdr), ...(options.before ?? []), pngChunk('IDAT', deflateSync(data)), pngChunk('IEND', Buffer.alloc(0))]);
}

const codeOf = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    return (error as { code: string }).code;
  }
  return 'accepted';
};

/** Release branding pictures: only a whole, still PNG within its limits reaches the renders. */
describe('release branding PNGs', () => {
  test('when a PNG is whole, then it is accepted and stored without its metadata', () => {
    const input = makePng(64, 32, { text: 'Author: someone at some address' });
    const checked = checkBrandingImage('watermark', input);
    expect([checked.width, checked.height]).toEqual([64, 32]);
    expect(checked.body.includes(Buffer.from('someone'))).toBe(false);
    expect(checked.body).toEqual(makePng(64, 32));
  });

  test.each([
    ['a watermark 20000×20000 (its header)', 'watermark', png(20000, 20000, Buffer.alloc(10)), 'branding_too_large'],
    ['an end card 4097 wide', 'end-card', png(4097, 10, Buffer.alloc(10)), 'branding_too_large'],
    ['a 100×100 picture whose data inflates to 64 MiB (a decompression bomb)', 'watermark', png(100, 100, Buffer.alloc(64 * 1024 * 1024)), 'branding_damaged'],
    ['data shorter than its size', 'end-card', png(100, 100, Buffer.alloc(100 * 101 - 1)), 'branding_damaged'],
    ['an animated PNG (acTL, fcTL)', 'watermark', png(10, 10, Buffer.alloc(10 * 11), { before: [pngChunk('acTL', Buffer.alloc(8)), pngChunk('fcTL', Buffer.alloc(26))] }), 'branding_animated'],
    ['a chunk with a wrong CRC', 'watermark', (() => { const b = makePng(10, 10); b[b.length - 13] = b[b.length - 13]! ^ 0xff; return b; })(), 'branding_damaged'],
    ['a file cut short', 'watermark', makePng(10, 10).subarray(0, 50), 'branding_damaged'],
    ['no IEND', 'watermark', makePng(10, 10).subarray(0, -12), 'branding_damaged'],
    ['two headers', 'watermark', png(10, 10, Buffer.alloc(110), { before: [pngChunk('IHDR', Buffer.alloc(13))] }), 'branding_damaged'],
    ['a bit depth the colour type cannot have', 'watermark', png(10, 10, Buffer.alloc(10 * 31), { colorType: 2, bitDepth: 1 }), 'branding_damaged'],
    ['a GIF', 'watermark', Buffer.from('GIF89a not a png at all, really not'), 'branding_not_png'],
  ])('when the file is %s, then it is refused clearly', (_name, asset, bytes, code) => {
    expect(codeOf(() => checkBrandingImage(asset as 'watermark' | 'end-card', bytes))).toBe(code);
  });

  test('the pixel data size follows the header: rows with a filter byte, Adam7 passes when interlaced', () => {
    expect(pngDataSize({ width: 100, height: 100, bitDepth: 8, colorType: 0, interlaced: false })).toBe(100 * 101);
    expect(pngDataSize({ width: 10, height: 2, bitDepth: 16, colorType: 6, interlaced: false })).toBe(2 * (1 + 80));
    expect(pngDataSize({ width: 9, height: 1, bitDepth: 1, colorType: 0, interlaced: false })).toBe(1 + 2);
    // 5×3 gray, by hand: passes of 1×1, 1×1, none, 1×1, 3×1, 2×2, 5×1 pixels.
    expect(pngDataSize({ width: 5, height: 3, bitDepth: 8, colorType: 0, interlaced: true })).toBe(2 + 2 + 0 + 2 + 4 + 6 + 6);
    expect(codeOf(() => checkBrandingImage('watermark', png(5, 3, Buffer.alloc(22), { interlace: 1 })))).toBe('accepted');
  });
});

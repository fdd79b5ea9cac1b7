import { Types } from 'mongoose';
import sharp from 'sharp';
import { cleanImage, JPEG_QUALITY } from '../../shared/images/clean-image';
import { loadConfig } from '../../shared/config';
import { connectDatabase, type Database } from '../../shared/db';
import { rebuildTallies } from '../../shared/reports/report-tally';
import type { TalliedAs } from '../../shared/reports/report.model';
import { createObjectStorage } from '../../shared/storage/object-storage';
import { updateCampaign } from '../../server/services/campaign-admin.service';
import { CLI_ACTOR, createCampaign, type NewCampaign } from '../../server/services/campaign.service';
import demoCampaign from '../../infra/local/demo-campaign.json';
import { exifSegment, iptcSegment, xmpSegment } from '../helpers/photos';
import { formatRatio, startBenchServices, startProcess, stopProcess } from './bench-env';
import { benchLogin, benchStaff } from './bench-staff';

/**
 * npm run bench:reports — action-report photos. For now one figure: the CPU time of cleaning a photo
 * (shared/images/clean-image.ts: sniff, header read, caps, decode, turn upright, sRGB, encode without
 * metadata) per megapixel ÷ sharp's plain decode + encode of the same files at the same JPEG settings
 * (target ≤ 1.2). Photos are generated here, phone-like: 12, 8 and 3 MP JPEGs (quality 92) carrying EXIF
 * (orientation 6 on half of them, GPS, a maker note, a thumbnail), XMP and IPTC. Measured in one process with
 * process.cpuUsage (sharp's threads count: it is the process's CPU time), the sharp cache off and the same
 * sharp.concurrency for both (`-- --concurrency N`, default 1); rounds interleaved, their order alternating.
 *
 * Then the press office's dashboard (GET /staff/reports/<campaign>?day=…, a logged-in social team member, a
 * server process from dist/server/main.js on the local FerretDB): 10 000 approved reports in one database
 * versus 100 in another (the same campaign, days and 40 reports waiting in both; tallies built from the
 * reports as a repair would), requests interleaved; p95 of the day's dashboard and of the campaign-wide one,
 * large ÷ small (target ≤ 1.5: the page reads the tallies by `_id`, never the reports).
 * Options: `-- --reports 10000`, `-- --rounds 60`, `-- --skip-photos`.
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
}

const DAYS = ['2027-03-27', '2027-03-28'];
const KINDS = ['embassy_protest', 'letter', 'meeting', 'online_action', 'statement', 'workplace_action'];
const COUNTRIES = ['BY', 'UA', 'PL', 'LT', 'DE', 'FR', 'GB', 'SE', 'GE', 'MD', 'US', 'CA'];

function rawReport(i: number, campaignId: Types.ObjectId, status: 'approved' | 'in_review') {
  const at = new Date(Date.UTC(2027, 2, 27, 8) + i * 1000);
  const talliedAs: TalliedAs = { date: DAYS[i % DAYS.length]!, kind: KINDS[i % KINDS.length]!, country: COUNTRIES[i % COUNTRIES.length]!, hour: String(8 + (i % 12)).padStart(2, '0'), photos: i % 4 };
  return {
    _id: new Types.ObjectId(),
    campaignId,
    status,
    statusTokenHash: 'f'.repeat(64),
    linkId: null,
    language: 'en',
    kind: talliedAs.kind,
    date: talliedAs.date,
    startTime: `${talliedAs.hour}:15`,
    city: `City ${i % 300}`,
    country: talliedAs.country,
    participants: '10-49',
    organisation: `Union ${i % 200}`,
    partners: '',
    text: 'We stood outside the embassy with banners and read the names of the imprisoned trade unionists. '.repeat(2),
    consent: { version: 1, language: 'en', statements: ['record', 'publish', 'risk'], givenAt: at },
    photosExpected: talliedAs.photos,
    photos: Array.from({ length: talliedAs.photos }, (_, n) => ({ id: `${String(n).padStart(2, '0')}${'a'.repeat(14)}`, slot: n, key: `reports/x/photo-${n}`, contentType: 'image/jpeg', bytes: 900_000, width: 3000, height: 2000, sha256: 'b'.repeat(64), excluded: false })),
    photosRev: 1,
    rejection: null,
    talliedAs: status === 'approved' ? talliedAs : null,
    decidedAt: status === 'approved' ? at : null,
    personalDataClearedAt: null,
    history: [],
    createdAt: at,
    updatedAt: at,
  };
}

async function fillReports(db: Database, campaignId: Types.ObjectId, approved: number, waiting: number): Promise<void> {
  const docs = [...Array.from({ length: approved }, (_, i) => rawReport(i, campaignId, 'approved')), ...Array.from({ length: waiting }, (_, i) => rawReport(i, campaignId, 'in_review'))];
  for (let at = 0; at < docs.length; at += 2000) await db.reports.collection.insertMany(docs.slice(at, at + 2000) as never[], { ordered: false });
  const entries = docs.filter((d) => d.status === 'in_review').map((d) => ({ _id: d._id, campaignId, kind: d.kind, date: d.date, country: d.country, organisation: d.organisation, photos: d.photos.length, enteredAt: d.createdAt, claimedBy: null, claimedEmail: null, claimedUntil: null, sensitive: false, approvals: [] }));
  await db.reportReview.collection.insertMany(entries as never[]);
  await rebuildTallies(db.connection, campaignId.toHexString(), docs.filter((d) => d.talliedAs).map((d) => d.talliedAs!), DAYS, new Date());
}

function p95(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]!;
}

async function dashboardBench(out: (line: string) => void): Promise<void> {
  const reports = option('reports', 10_000);
  const rounds = option('rounds', 60);
  const bench = await startBenchServices();
  const base = new URL(bench.env.MONGO_URL!);
  const url = (name: string) => Object.assign(new URL(base.toString()), { pathname: `/${name}` }).toString();
  const children: Array<Awaited<ReturnType<typeof startProcess>>> = [];
  const dbs: Database[] = [];
  try {
    await createObjectStorage(loadConfig(bench.env).s3, loadConfig(bench.env).upload).ensureBucket();
    const servers: Record<'small' | 'large', { get(path: string): Promise<string> }> = {} as never;
    for (const [size, count] of [['small', 100], ['large', reports]] as const) {
      const db = await connectDatabase(url(`reports_${size}`));
      dbs.push(db);
      const campaign = await createCampaign(db, { ...(demoCampaign as NewCampaign), slug: 'day-of-action' }, new Date());
      await updateCampaign(db, 'day-of-action', { actionDays: DAYS }, new Date(), CLI_ACTOR);
      const started = Date.now();
      await fillReports(db, campaign._id, count, 40);
      out(`  ${size}: ${count} approved reports and 40 waiting, filled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      const port = 30000 + Math.floor(Math.random() * 20000);
      const baseUrl = `http://127.0.0.1:${port}`;
      children.push(await startProcess('server/main.js', { ...bench.env, MONGO_URL: url(`reports_${size}`), PORT: String(port) }, async () => (await fetch(`${baseUrl}/healthz`)).ok));
      const cookie = await benchLogin(baseUrl, await benchStaff(db, loadConfig(bench.env).staff, 'social', ['day-of-action']));
      servers[size] = {
        async get(path: string) {
          const response = await fetch(`${baseUrl}${path}`, { headers: { cookie } });
          const html = await response.text();
          if (response.status !== 200) throw new Error(`${path}: ${response.status} ${html.slice(0, 300)}`);
          return html;
        },
      };
    }
    const pages = { "a day's dashboard": `/staff/reports/day-of-action?day=${DAYS[0]}`, 'the campaign-wide dashboard': '/staff/reports/day-of-action' };
    const count = (html: string) => /data-testid="tally-actions">([^<]+)</.exec(html)?.[1];
    out(`  counted: small ${count(await servers.small.get(pages['the campaign-wide dashboard']))}, large ${count(await servers.large.get(pages['the campaign-wide dashboard']))}`);
    const samples = new Map(Object.keys(pages).map((name) => [name, { small: [] as number[], large: [] as number[] }]));
    for (let round = 0; round < rounds; round += 1) {
      for (const [name, path] of Object.entries(pages)) {
        for (const size of round % 2 === 0 ? (['small', 'large'] as const) : (['large', 'small'] as const)) {
          const start = process.hrtime.bigint();
          await servers[size].get(path);
          samples.get(name)![size].push(Number(process.hrtime.bigint() - start) / 1e6);
        }
      }
    }
    let worst = 0;
    for (const [name, s] of samples) {
      const ratio = p95(s.large) / p95(s.small);
      worst = Math.max(worst, ratio);
      out(`  ${name}: p95 ${p95(s.small).toFixed(1)} ms with 100 reports, ${p95(s.large).toFixed(1)} ms with ${reports} (${rounds} requests each)`);
    }
    out(formatRatio(`dashboard p95 with ${reports} reports ÷ with 100`, worst, '≤ 1.5'));
  } finally {
    for (const child of children) await stopProcess(child).catch(() => undefined);
    for (const db of dbs) await db.close().catch(() => undefined);
    await bench.stop();
  }
}

async function mainAll(): Promise<void> {
  if (!process.argv.includes('--skip-photos')) await main();
  await dashboardBench((line) => process.stdout.write(`${line}\n`));
}

mainAll().catch((error: unknown) => {
  process.stderr.write(`bench:reports: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

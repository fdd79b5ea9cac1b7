import { Types } from 'mongoose';
import { loadConfig } from '../../shared/config';
import { connectDatabase, type Database } from '../../shared/db';
import { listForReview } from '../../shared/submissions/moderation';
import { listReviewQueue, reconcileReviewQueue, reviewEntryFor } from '../../shared/submissions/review-queue';
import type { Submission } from '../../shared/submissions/submission.model';
import { createObjectStorage } from '../../shared/storage/object-storage';
import type { SubmissionState } from '../../shared/submissions/submission-states';
import { createCampaign, type NewCampaign } from '../../server/services/campaign.service';
import demoCampaign from '../../infra/local/demo-campaign.json';
import { formatRatio, startBenchServices, startProcess, stopProcess } from './bench-env';
import { benchLogin, benchStaff } from './bench-staff';

/**
 * npm run bench:queue — the moderators' queue page, the whole of it: an HTTP GET of /staff/queue by a
 * logged-in moderator from a server process (dist/server/main.js) — session, the queue's page, its facets
 * over the whole queue, the claims, the rendering. On the local FerretDB, in one run:
 *  1. 100 000 submissions in the database versus 1 000, the same 500 of them waiting (a server on each,
 *     requests interleaved): p95 of the first page, a filtered page and the next page; target large ÷ small ≤ 1.5;
 *  2. the backlog curve: 100 000 submissions with 500, 5 000 and 20 000 of them waiting (a database and a
 *     server for each): p95 of the first and the filtered page at each, and ÷ the 500 figure.
 * For contrast, a few reads of a campaign's page straight from `submissions` (listForReview, sorted by the
 * database), which FerretDB cannot do without reading every document. The queue is first built by
 * `reconcileReviewQueue` (as after drift), and that time is printed too.
 *
 * Options: `-- --large 20000` (fewer documents, for a quick look), `-- --rounds 40`, `-- --backlog 20000`.
 */

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const LARGE = option('large', 100_000);
const SMALL = 1_000;
const IN_REVIEW = 500;
const BACKLOG = option('backlog', 20_000);
const ROUNDS = option('rounds', 40);
const BATCH = 2_000;
const say = (line = '') => process.stdout.write(`${line}\n`);

const CAMPAIGNS = [new Types.ObjectId(), new Types.ObjectId(), new Types.ObjectId()];
const LANGUAGES = ['be', 'ru', 'uk', 'en'];
const COUNTRIES = ['BY', 'UA', 'PL', 'LT', 'DE'];
const OTHER_STATES: SubmissionState[] = ['received', 'approved', 'released', 'rejected', 'withdrawn', 'failed'];
const HOUR = 3_600_000;
const START = Date.now() - 400 * 24 * HOUR;

/** A submission as mongoose stores it (raw, for insertMany without validation). */
function rawSubmission(i: number, status: SubmissionState, id = new Types.ObjectId()) {
  const createdAt = new Date(START + i * 60_000);
  const reviewAt = new Date(createdAt.getTime() + 5 * 60_000);
  const history = [
    { transition: 'processing_started', from: 'received', to: 'processing', at: new Date(createdAt.getTime() + 1000), by: 'worker', lease: 'l' },
    { transition: 'processing_succeeded', from: 'processing', to: 'in_review', at: reviewAt, by: 'worker', lease: 'l' },
  ];
  if (status !== 'in_review' && status !== 'received') history.push({ transition: 'approved', from: 'in_review', to: status, at: new Date(reviewAt.getTime() + HOUR), by: 'm', lease: '' });
  return {
    _id: id,
    campaignId: CAMPAIGNS[i % CAMPAIGNS.length],
    status,
    statusTokenHash: 'f'.repeat(64),
    organisation: `Union ${i % 40}`,
    country: COUNTRIES[i % COUNTRIES.length],
    language: LANGUAGES[i % LANGUAGES.length],
    title: `Solidarity message number ${i}`,
    message: 'Free all political prisoners. Trade unionism is not extremism. '.repeat(3),
    contactEmail: null,
    protectionRequested: i % 7 === 0,
    consent: { version: 1, language: LANGUAGES[i % LANGUAGES.length], statements: ['record', 'publish', 'risk'], givenAt: createdAt },
    original: { key: `originals/${id.toHexString()}/video`, bytes: 50_000_000, sha256: 'a'.repeat(64), contentType: 'video/mp4' },
    subtitles: null,
    media: { container: 'mov,mp4', durationSeconds: 42, sizeBytes: 50_000_000, video: { width: 1080, height: 1920, displayWidth: 1080, displayHeight: 1920, rotation: 0 }, audio: null },
    outputs: status === 'received' ? {} : { preview: { key: `outputs/${id.toHexString()}/l/preview.mp4`, bytes: 9_000_000, sha256: 'b'.repeat(64), contentType: 'video/mp4' } },
    processing: { attempts: 1, progress: 100, startedAt: createdAt, heartbeatAt: null, finishedAt: reviewAt, lastError: null, lease: null },
    rejection: null,
    history: status === 'received' ? [] : history,
    createdAt,
    updatedAt: status === 'in_review' ? reviewAt : new Date(reviewAt.getTime() + HOUR),
  };
}

/** The same 500 clips in review (same ids, same dates) in both databases, spread through the collection. */
const REVIEW_IDS = Array.from({ length: IN_REVIEW }, () => new Types.ObjectId());

async function fill(db: Database, total: number): Promise<number> {
  const started = Date.now();
  const collection = db.submissions.collection;
  const every = Math.floor(total / IN_REVIEW);
  let batch: unknown[] = [];
  let reviewIndex = 0;
  for (let i = 0; i < total; i += 1) {
    const inReview = i % every === 0 && reviewIndex < IN_REVIEW;
    // The review clips get the same position (index) in both databases, so their dates match.
    const doc = inReview ? rawSubmission(reviewIndex * 7, 'in_review', REVIEW_IDS[reviewIndex++]) : rawSubmission(i + 10_000, OTHER_STATES[i % OTHER_STATES.length]!);
    batch.push(doc);
    if (batch.length === BATCH) {
      await collection.insertMany(batch as never[], { ordered: false });
      batch = [];
    }
  }
  if (batch.length) await collection.insertMany(batch as never[], { ordered: false });
  return (Date.now() - started) / 1000;
}

/**
 * `total` submissions, `waiting` of them in review (spread through the collection), and their queue entries
 * as the worker writes them on entering review (the reconciler, one insert each, is far slower to build them).
 */
async function fillBacklog(db: Database, total: number, waiting: number): Promise<number> {
  const started = Date.now();
  const every = Math.floor(total / waiting);
  let batch: Array<ReturnType<typeof rawSubmission>> = [];
  let made = 0;
  const flush = async () => {
    await db.submissions.collection.insertMany(batch as never[], { ordered: false });
    const entries = batch.filter((d) => d.status === 'in_review').map((d) => reviewEntryFor(d as unknown as Submission, d.history[1]!.at));
    if (entries.length) await db.reviewQueue.collection.insertMany(entries as never[], { ordered: false });
    batch = [];
  };
  for (let i = 0; i < total; i += 1) {
    const inReview = i % every === 0 && made < waiting;
    // (The waiting clips numbered as fill() numbers them, so their campaigns, languages and countries vary alike.)
    batch.push(inReview ? rawSubmission((made += 1) * 7, 'in_review') : rawSubmission(i + 10_000, OTHER_STATES[i % OTHER_STATES.length]!));
    if (batch.length === BATCH) await flush();
  }
  if (batch.length) await flush();
  return (Date.now() - started) / 1000;
}

function p95(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]!;
}

async function ms(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The queue's campaigns, under the ids the submissions name (slugs q0, q1, q2). */
async function seedCampaigns(db: Database): Promise<void> {
  for (const [i, id] of CAMPAIGNS.entries()) {
    const made = await createCampaign(db, { ...(demoCampaign as NewCampaign), slug: `q${i}`, name: `Queue ${i}` }, new Date());
    const raw = await db.campaigns.collection.findOne({ _id: made._id });
    await db.campaigns.collection.deleteOne({ _id: made._id });
    await db.campaigns.collection.insertOne({ ...raw!, _id: id });
  }
}

/** A server process on one database, and a moderator (all campaigns) logged in to it. */
async function serverOn(env: NodeJS.ProcessEnv, mongoUrl: string, db: Database) {
  const port = 30000 + Math.floor(Math.random() * 20000);
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = await startProcess('server/main.js', { ...env, MONGO_URL: mongoUrl, PORT: String(port) }, async () => (await fetch(`${baseUrl}/healthz`)).ok);
  const cookie = await benchLogin(baseUrl, await benchStaff(db, loadConfig(env).staff, 'moderator'));
  const get = async (path: string) => {
    const response = await fetch(`${baseUrl}${path}`, { headers: { cookie } });
    const html = await response.text();
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${html.slice(0, 300)}`);
    return html;
  };
  return { child, get };
}

const shownIds = (html: string) => [...new Set([...html.matchAll(/\/staff\/review\/([0-9a-f]{24})/g)].map((m) => m[1]))].join();

async function main(): Promise<void> {
  const bench = await startBenchServices();
  const base = new URL(bench.env.MONGO_URL!);
  const url = (name: string) => Object.assign(new URL(base.toString()), { pathname: `/${name}` }).toString();
  const small = await connectDatabase(url('queue_small'));
  const large = await connectDatabase(url('queue_large'));
  const children: Array<{ child: Awaited<ReturnType<typeof startProcess>> }> = [];
  try {
    say(`filling: ${SMALL} and ${LARGE} submissions, ${IN_REVIEW} of them in review in both…`);
    await seedCampaigns(small);
    await seedCampaigns(large);
    const smallFill = await fill(small, SMALL);
    const largeFill = await fill(large, LARGE);
    say(`  inserted in ${smallFill.toFixed(1)} s and ${largeFill.toFixed(1)} s`);

    // The queue is built as the reconciler rebuilds it after drift: from the submissions in review.
    const rebuild: number[] = [];
    for (const db of [small, large]) {
      const start = Date.now();
      const result = await reconcileReviewQueue(db.submissions);
      rebuild.push((Date.now() - start) / 1000);
      if (result.added !== IN_REVIEW) throw new Error(`rebuild added ${result.added}, expected ${IN_REVIEW}`);
    }
    say(`  review queue rebuilt from the submissions in ${rebuild[0]!.toFixed(2)} s and ${rebuild[1]!.toFixed(2)} s`);

    await createObjectStorage(loadConfig(bench.env).s3, loadConfig(bench.env).upload).ensureBucket();
    const onSmall = await serverOn(bench.env, url('queue_small'), small);
    children.push(onSmall);
    const onLarge = await serverOn(bench.env, url('queue_large'), large);
    children.push(onLarge);
    const now = new Date();
    const cursor = (await listReviewQueue(small.reviewQueue, { campaignIds: null }, { limit: 25, now })).next!;
    const pages: Record<string, string> = {
      'first page': '/staff/queue',
      'filtered page (campaign, language, country, ≥ 1 h in queue)': '/staff/queue?campaign=q1&language=ru&country=UA&wait=60',
      'next page': `/staff/queue?after=${encodeURIComponent(cursor)}`,
    };
    // Same answers from both: the same clips are waiting (and a page that shows none proves nothing).
    for (const [name, path] of Object.entries(pages)) {
      const [a, b] = [shownIds(await onSmall.get(path)), shownIds(await onLarge.get(path))];
      if (a !== b || a === '') throw new Error(`${name}: the two databases answer differently (or show nothing)`);
    }

    const samples = new Map<string, { small: number[]; large: number[] }>();
    for (const name of Object.keys(pages)) samples.set(name, { small: [], large: [] });
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [name, path] of Object.entries(pages)) {
        // Interleaved, so the shared machine's noise falls on both sides alike.
        samples.get(name)!.small.push(await ms(() => onSmall.get(path)));
        samples.get(name)!.large.push(await ms(() => onLarge.get(path)));
      }
    }

    say(`\nthe whole page (HTTP GET), p95 over ${ROUNDS} reads each (ms):   ${SMALL} docs   ${LARGE} docs`);
    const lines: string[] = [];
    let worst = 0;
    for (const [name, { small: s, large: l }] of samples) {
      const ratio = p95(l) / p95(s);
      worst = Math.max(worst, ratio);
      say(`  ${name.padEnd(58)} ${p95(s).toFixed(1).padStart(8)} ${p95(l).toFixed(1).padStart(10)}`);
      lines.push(formatRatio(`${name}: ${LARGE} ÷ ${SMALL} submissions`, ratio, '≤ 1.5'));
    }

    // The backlog curve: a database of as many submissions for each backlog, with that many of them waiting.
    const curve: Array<{ waiting: number; first: number; filtered: number }> = [{ waiting: IN_REVIEW, first: p95(samples.get('first page')!.large), filtered: p95(samples.get(Object.keys(pages)[1]!)!.large) }];
    for (const waiting of [5_000, BACKLOG].filter((n) => n > IN_REVIEW && n < LARGE)) {
      const db = await connectDatabase(url(`queue_backlog_${waiting}`));
      try {
        await seedCampaigns(db);
        const seconds = await fillBacklog(db, LARGE, waiting);
        say(`  ${LARGE} submissions, ${waiting} of them waiting: inserted, with their queue entries, in ${seconds.toFixed(1)} s`);
        const onBacklog = await serverOn(bench.env, url(`queue_backlog_${waiting}`), db);
        children.push(onBacklog);
        const first: number[] = [];
        const filtered: number[] = [];
        for (let round = 0; round < ROUNDS; round += 1) {
          first.push(await ms(() => onBacklog.get(pages['first page']!)));
          filtered.push(await ms(() => onBacklog.get(Object.values(pages)[1]!)));
        }
        await stopProcess(onBacklog.child);
        curve.push({ waiting, first: p95(first), filtered: p95(filtered) });
      } finally {
        await db.close();
      }
    }
    say(`\nthe backlog curve, ${LARGE} submissions, p95 of the whole page (ms):`);
    say(`  ${'waiting'.padStart(8)} ${'first page'.padStart(12)} ${'filtered'.padStart(10)}   ÷ ${IN_REVIEW} waiting`);
    for (const point of curve) {
      say(`  ${String(point.waiting).padStart(8)} ${point.first.toFixed(1).padStart(12)} ${point.filtered.toFixed(1).padStart(10)}   ${(point.first / curve[0]!.first).toFixed(2)} / ${(point.filtered / curve[0]!.filtered).toFixed(2)}`);
    }
    const last = curve.at(-1)!;
    if (curve.length > 1) lines.push(formatRatio(`first page: ${last.waiting} ÷ ${IN_REVIEW} waiting (no target: the curve)`, last.first / curve[0]!.first, 'reported'));
    say();
    for (const line of lines) say(line);

    // For contrast: a campaign's first page sorted by the database from `submissions` (one read each).
    const direct = [await ms(() => listForReview(small.submissions, CAMPAIGNS[1]!, { limit: 25 })), await ms(() => listForReview(large.submissions, CAMPAIGNS[1]!, { limit: 25 }))];
    say(`\nfor contrast, a campaign's page sorted by the database from submissions: ${direct[0]!.toFixed(1)} ms vs ${direct[1]!.toFixed(1)} ms (× ${(direct[1]! / direct[0]!).toFixed(1)})`);
    say(worst <= 1.5 ? `\nOK: every ${LARGE} ÷ ${SMALL} ratio within 1.5` : `\nOVER TARGET: worst ratio ${worst.toFixed(3)}`);
    process.exitCode = worst <= 1.5 ? 0 : 1;
  } finally {
    for (const { child } of children) await stopProcess(child);
    await small.close();
    await large.close();
    await bench.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});

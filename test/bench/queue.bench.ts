import { Types } from 'mongoose';
import { connectDatabase, type Database } from '../../shared/db';
import { listForReview } from '../../shared/submissions/moderation';
import { decodeCursor, listReviewQueue, reconcileReviewQueue } from '../../shared/submissions/review-queue';
import type { SubmissionState } from '../../shared/submissions/submission-states';
import { formatRatio, startBenchServices } from './bench-env';

/**
 * npm run bench:queue — the moderators' queue with 100 000 submissions in the database versus 1 000, the
 * same 500 of them waiting for review in both, on the local FerretDB, in one run. p95 latency of the
 * queue's first page, a filtered page and the next page (listReviewQueue, what the queue page calls);
 * target: large ÷ small ≤ 1.5. For contrast, a few reads of the same page straight from `submissions`
 * (listForReview, sorted by the database), which FerretDB cannot do without reading every document.
 * The queue itself is first built by `reconcileReviewQueue` (as after drift), and that time is printed too.
 *
 * Options: `-- --large 20000` (fewer documents, for a quick look), `-- --rounds 40`.
 */

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const LARGE = option('large', 100_000);
const SMALL = 1_000;
const IN_REVIEW = 500;
const ROUNDS = option('rounds', 60);
const PAGE = 25;
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

function p95(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]!;
}

async function ms(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main(): Promise<void> {
  const bench = await startBenchServices();
  const base = new URL(bench.env.MONGO_URL!);
  const url = (name: string) => Object.assign(new URL(base.toString()), { pathname: `/${name}` }).toString();
  const small = await connectDatabase(url('queue_small'));
  const large = await connectDatabase(url('queue_large'));
  try {
    say(`filling: ${SMALL} and ${LARGE} submissions, ${IN_REVIEW} of them in review in both…`);
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

    const now = new Date();
    const cursorOf = async (db: Database) => decodeCursor((await listReviewQueue(db.reviewQueue, { campaignIds: null }, { limit: PAGE, now })).next!);
    const cursors = new Map([[small, await cursorOf(small)], [large, await cursorOf(large)]]);
    const pages = {
      'first page': (db: Database) => listReviewQueue(db.reviewQueue, { campaignIds: null }, { limit: PAGE, now }),
      'filtered page (campaign, language, country, ≥ 1 h in queue)': (db: Database) =>
        listReviewQueue(db.reviewQueue, { campaignIds: [CAMPAIGNS[1]!], language: 'ru', country: 'UA', minWaitMinutes: 60 }, { limit: PAGE, now }),
      'next page': (db: Database) => listReviewQueue(db.reviewQueue, { campaignIds: null }, { limit: PAGE, after: cursors.get(db)!, now }),
    };
    // Same answers in both databases: the same clips are waiting.
    for (const [name, page] of Object.entries(pages)) {
      const [a, b] = [await page(small), await page(large)];
      const ids = (r: typeof a) => r.entries.map((e) => e._id.toHexString()).join();
      if (ids(a) !== ids(b) || a.entries.length === 0) throw new Error(`${name}: the two databases answer differently`);
    }

    const samples = new Map<string, { small: number[]; large: number[] }>();
    for (const name of Object.keys(pages)) samples.set(name, { small: [], large: [] });
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [name, page] of Object.entries(pages)) {
        // Interleaved, so the shared machine's noise falls on both sides alike.
        samples.get(name)!.small.push(await ms(() => page(small)));
        samples.get(name)!.large.push(await ms(() => page(large)));
      }
    }

    say(`\np95 over ${ROUNDS} reads each (ms):           ${SMALL} docs   ${LARGE} docs`);
    const lines: string[] = [];
    let worst = 0;
    for (const [name, { small: s, large: l }] of samples) {
      const ratio = p95(l) / p95(s);
      worst = Math.max(worst, ratio);
      say(`  ${name.padEnd(58)} ${p95(s).toFixed(1).padStart(8)} ${p95(l).toFixed(1).padStart(10)}`);
      lines.push(formatRatio(`${name}: large ÷ small`, ratio, '≤ 1.5'));
    }
    say();
    for (const line of lines) say(line);

    // For contrast: the same first page sorted by the database from `submissions` (one read each).
    const direct: number[][] = [[], []];
    for (let round = 0; round < 1; round += 1) {
      direct[0]!.push(await ms(() => listForReview(small.submissions, CAMPAIGNS[1]!, { limit: PAGE })));
      direct[1]!.push(await ms(() => listForReview(large.submissions, CAMPAIGNS[1]!, { limit: PAGE })));
    }
    say(`\nfor contrast, a campaign's page sorted by the database from submissions: ${direct[0]![0]!.toFixed(1)} ms vs ${direct[1]![0]!.toFixed(1)} ms (× ${(direct[1]![0]! / direct[0]![0]!).toFixed(1)})`);
    say(worst <= 1.5 ? '\nOK: every ratio within 1.5' : `\nOVER TARGET: worst ratio ${worst.toFixed(3)}`);
    process.exitCode = worst <= 1.5 ? 0 : 1;
  } finally {
    await small.close();
    await large.close();
    await bench.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});

import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Types } from 'mongoose';
import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { originalKey, originalSubtitlesKey } from '../../shared/storage/keys';
import type { Submission } from '../../shared/submissions/submission.model';
import { createSubmission } from '../../server/services/submission.service';
import { readSigningMaterial } from '../../shared/provenance/signing-files';
import { runLimits, type WorkerDeps } from '../../worker/deps';
import { processSubmission } from '../../worker/handlers/process-submission.handler';
import { protectJobId, type QueueJob } from '../../shared/queue/queue';
import { protectClip } from '../../worker/handlers/protect-clip.handler';
import type { TestApp } from './test-env';
import type { ProtectionChoice } from '../../shared/protection/protection';
import { demoConsent } from './test-env';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

export function workerDeps(app: TestApp, overrides: Partial<WorkerDeps> = {}): WorkerDeps {
  return {
    config: app.config,
    logger: app.deps.logger,
    db: app.services.db,
    queue: app.services.queue,
    storage: app.services.storage,
    counters: app.services.counters,
    limits: runLimits(app.config),
    shutdown: new AbortController().signal,
    signing: readSigningMaterial(app.config.provenance),
    ...overrides,
  };
}

/**
 * Stores a clip (and subtitles) as the upload would, without the upload's content check, so the worker
 * can be given files the upload would refuse (its own defences are under test). Returns the id.
 */
export async function submitFile(
  app: TestApp,
  video: Buffer | string,
  options: { subtitles?: Buffer; language?: string; protection?: ProtectionChoice } = {},
): Promise<string> {
  const id = new Types.ObjectId().toHexString();
  const bytes = typeof video === 'string' ? await readFile(video) : video;
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  await app.services.storage.upload(originalKey(id), typeof video === 'string' ? createReadStream(video) : bytes, 'video/mp4');
  let subtitles = null;
  if (options.subtitles) {
    await app.services.storage.upload(originalSubtitlesKey(id), options.subtitles, 'application/octet-stream');
    subtitles = { key: originalSubtitlesKey(id), bytes: options.subtitles.length, sha256: sha(options.subtitles), contentType: 'application/octet-stream' };
  }
  const language = options.language ?? 'be';
  await createSubmission(app.deps, {
    id,
    input: {
      campaign: 'demo', organisation: 'Test union', country: 'BY', language, title: 'Test', message: '', contactEmail: null,
      ...(options.protection ? { protection: options.protection } : {}),
      consent: JSON.parse(demoConsent('en')) as { version: number; language: string; statements: string[] },
    },
    video: { key: originalKey(id), bytes: bytes.length, sha256: sha(bytes), contentType: 'video/mp4' },
    subtitles,
  });
  return id;
}

export function fakeJob(submissionId: string, attempt = 1): QueueJob<'process-submission'> {
  return { id: submissionId, name: 'process-submission', payload: { submissionId }, attempt, maxAttempts: 5, reportProgress: async () => undefined };
}

/**
 * Processes a clip as the worker does; for a protected clip, also the job processing queued next (its protected
 * master), as a worker would take it, unless `followUp` is false.
 */
export async function runWorker(deps: WorkerDeps, submissionId: string, options: { followUp?: boolean } = {}): Promise<Submission> {
  await processSubmission(deps, fakeJob(submissionId));
  const done = (await deps.db.submissions.findById(submissionId).lean<Submission>())!;
  if (options.followUp === false || done.status !== 'in_review' || !done.protectedRender || done.outputs.protectedMaster) return done;
  const payload = { submissionId, trackVersion: done.protectedRender.trackVersion, part: 'master' as const };
  // Processing queued it: the follow-up is run only when it is there (a test of a lost enqueue sees none).
  if ((await deps.queue.jobState(protectJobId(submissionId, payload.trackVersion, 'master'))) === null) return done;
  await protectClip(deps, { id: protectJobId(submissionId, payload.trackVersion, 'master'), name: 'protect-clip', payload, attempt: 1, maxAttempts: 5, reportProgress: async () => undefined });
  return (await deps.db.submissions.findById(submissionId).lean<Submission>())!;
}

/** Downloads one of a submission's outputs into a temp folder and returns its path. */
export async function downloadOutput(deps: Pick<WorkerDeps, 'storage'>, submission: Submission, name: string): Promise<string> {
  const outputs = submission.outputs as Record<string, { key: string }>;
  const key = outputs[name]?.key;
  if (!key) throw new Error(`no output ${name}; outputs: ${Object.keys(outputs).join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'solidarity-out-'));
  const path = join(dir, name);
  const chunks: Buffer[] = [];
  for await (const chunk of await deps.storage.download(key)) chunks.push(chunk as Buffer);
  await writeFile(path, Buffer.concat(chunks));
  expect((await stat(path)).size).toBeGreaterThan(0);
  return path;
}

/** Tags that may remain in a preview: container brands and per-stream handler/language/encoder names. */
export const ALLOWED_FORMAT_TAGS = ['major_brand', 'minor_version', 'compatible_brands'];
export const ALLOWED_STREAM_TAGS = ['language', 'handler_name', 'vendor_id', 'encoder'];

/**
 * The objects under a submission's outputs are exactly the ones its document records (one set, from the
 * lease that settled it), and each recorded checksum is that of the stored object. Returns the keys.
 */
export async function expectOnlyRecordedOutputs(deps: Pick<WorkerDeps, 'storage'>, submission: Submission, names: string[]): Promise<string[]> {
  const id = submission._id.toHexString();
  const recorded = Object.entries(submission.outputs as Record<string, { key: string; sha256: string }>);
  expect(recorded.map(([name]) => name).sort()).toEqual([...names].sort());
  const settledBy = submission.history.filter((h) => h.transition === 'processing_succeeded').at(-1)?.lease;
  for (const [, object] of recorded) expect(object.key).toContain(`outputs/${id}/${settledBy ?? 'no-lease'}/`);
  expect((await deps.storage.list(`outputs/${id}/`)).sort()).toEqual(recorded.map(([, o]) => o.key).sort());
  for (const [, object] of recorded) {
    const bytes = await buffer(await deps.storage.download(object.key));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(object.sha256);
  }
  return recorded.map(([, o]) => o.key);
}

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { addCaptionVersion } from '../../shared/captions/caption-versions';
import { originalKey, originalSubtitlesKey } from '../../shared/storage/keys';
import { approve, reject, withdraw } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import type { WorkerDeps } from '../../worker/deps';
import { deleteDueOriginals } from '../../worker/retention';
import { FIXTURES, ffprobeJson } from '../helpers/fixtures';
import { expectNothingLeft } from '../helpers/nothing-left';
import { privacySweep, sourceTraces } from '../helpers/privacy-sweep';
import { loginAs, makeStaff, testClock, type StaffClient } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { ALLOWED_FORMAT_TAGS, ALLOWED_STREAM_TAGS, downloadOutput, runWorker, submitFile, workerDeps } from '../helpers/worker-env';

const run = promisify(execFile);
const DAY = 24 * 3600 * 1000;

/** The clean master made at processing time, and the retention job that ends the raw originals. */
describe('the master and the end of raw originals', () => {
  let app: TestApp;
  let deps: WorkerDeps;
  let moderator: StaffClient;
  const clock = testClock();

  beforeAll(async () => {
    app = await startTestApp({ ORIGINAL_RETENTION_DAYS: '30', ORIGINAL_RETENTION_DAYS_DECLINED: '7', STAFF_SCRYPT_LOG2_COST: '12', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' }, clock.now);
    await seedDemoCampaign(app.deps);
    deps = workerDeps(app);
    moderator = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { campaigns: ['demo'] }));
  });

  afterAll(async () => {
    await app.close();
  });

  async function expectCleanMaster(done: Submission, size: { width: number; height: number }): Promise<string> {
    const path = await downloadOutput(deps, done, 'master');
    const probe = await ffprobeJson(path);
    const video = probe.streams.filter((s) => s.codec_type === 'video');
    expect(probe.streams.map((s) => s.codec_type)).toEqual(['video', 'audio']);
    expect(video[0]).toMatchObject({ codec_name: 'h264', profile: 'High', pix_fmt: 'yuv420p', color_transfer: 'bt709', ...size });
    expect(video[0]!.avg_frame_rate).toBe(video[0]!.r_frame_rate); // constant frame rate
    expect(video[0]?.side_data_list ?? []).toEqual([]); // upright as stored: no display matrix for a player to apply
    // The tags the corpus audit allows (brands, handler names) and nothing else.
    expect(Object.keys(probe.format.tags ?? {}).filter((t) => !ALLOWED_FORMAT_TAGS.includes(t))).toEqual([]);
    for (const stream of probe.streams) expect(Object.keys(stream.tags ?? {}).filter((t) => !ALLOWED_STREAM_TAGS.includes(t))).toEqual([]);
    expect(probe.chapters).toEqual([]);
    return path;
  }

  test('when a sideways phone clip is processed, then the master is upright at the source size, clean, and better than the preview', async () => {
    const done = await runWorker(deps, await submitFile(app, await FIXTURES.rotated!()));
    expect(done.status).toBe('in_review');
    const master = await expectCleanMaster(done, { width: 360, height: 640 });
    // High quality: CRF 18 spends clearly more bits on the same picture than the preview's CRF 23.
    expect(done.outputs.master!.bytes).toBeGreaterThan(done.outputs.preview!.bytes * 1.3);
    const { stderr } = await run('ffmpeg', ['-hide_banner', '-i', master, '-i', await FIXTURES.rotated!(), '-lavfi', '[0:v][1:v]ssim', '-f', 'null', '-']);
    expect(Number(/All:([\d.]+)/.exec(stderr)?.[1])).toBeGreaterThan(0.97);
  });

  test.each([['appleTagged'], ['androidTagged']])('when the clip carries %s metadata (GPS, make, model, dates), then the master holds none of it, nor any other object made of it', async (fixture) => {
    const source = await FIXTURES[fixture]!();
    const done = await runWorker(deps, await submitFile(app, source));
    const path = await expectCleanMaster(done, { width: 640, height: 360 });
    const bytes = await readFile(path);
    for (const needle of ['53.9006', 'iPhone', 'Apple', 'com.android', '2024-03-01', 'Minsk', 'Jane Doe']) expect(bytes.includes(Buffer.from(needle))).toBe(false);
    // And every other object made of it (preview, poster, …): tag values, JPEG markers, the source's own traces.
    const id = done._id.toHexString();
    const traces = await sourceTraces(source);
    expect(traces.strings).toEqual(expect.arrayContaining(['53.9006', '2024-03-01']));
    const sweep = await privacySweep(app.services.storage, id, traces, [originalKey(id)]);
    expect(sweep.findings).toEqual([]);
    expect(sweep.checked.length).toBeGreaterThanOrEqual(3);
  });

  test('when clips are decided, then the retention job deletes each original on its day and not before; undecided clips keep theirs', async () => {
    const subtitles = Buffer.from('1\n00:00:00,200 --> 00:00:01,000\nSalidarnasć\n');
    const clip = await FIXTURES.noAudio!();
    const submit = () => submitFile(app, clip, { subtitles });
    const [approved, rejected, withdrawn, undecided] = await Promise.all([submit(), submit(), submit(), submit()]);
    // As the worker leaves them (its run is tested elsewhere): waiting for a moderator.
    await app.services.db.submissions.updateMany({ _id: { $in: [approved, rejected, undecided] } }, { $set: { status: 'in_review' } });
    const t0 = Date.now();
    await approve(app.services.db.submissions, approved, { by: 'moderator' });
    await reject(app.services.db.submissions, rejected, { by: 'moderator', reason: 'Off topic' });
    await withdraw(app.services.db.submissions, withdrawn, { by: 'contributor' });
    const mediaRejected = (await runWorker(deps, await submitFile(app, await FIXTURES.audioOnly!())))._id.toHexString();
    const all = { approved, rejected, withdrawn, undecided, mediaRejected };

    const stored = async () => {
      const result: Record<string, number> = {};
      for (const [name, id] of Object.entries(all)) result[name] = (await app.services.storage.list(`originals/${id}/`)).length;
      return result;
    };
    const deletedAt = async (id: string) => (await app.services.db.submissions.findById(id).lean<Submission>())!.originalDeletedAt;
    expect(await stored()).toEqual({ approved: 2, rejected: 2, withdrawn: 2, undecided: 2, mediaRejected: 1 });

    // The clock is injected: nothing is due a minute short of the shorter period.
    expect(await deleteDueOriginals(deps, new Date(t0 + 7 * DAY - 60_000))).toBe(0);
    expect(await stored()).toEqual({ approved: 2, rejected: 2, withdrawn: 2, undecided: 2, mediaRejected: 1 });

    const afterWeek = new Date(t0 + 7 * DAY + 60_000);
    expect(await deleteDueOriginals(deps, afterWeek)).toBe(3);
    expect(await stored()).toEqual({ approved: 2, rejected: 0, withdrawn: 0, undecided: 2, mediaRejected: 0 });
    expect(await deletedAt(rejected)).toEqual(afterWeek);
    expect(await deletedAt(approved)).toBeNull();
    expect(await deleteDueOriginals(deps, afterWeek)).toBe(0); // a second run changes nothing

    expect(await deleteDueOriginals(deps, new Date(t0 + 30 * DAY - 60_000))).toBe(0);
    expect(await deleteDueOriginals(deps, new Date(t0 + 30 * DAY + 60_000))).toBe(1);
    expect(await stored()).toEqual({ approved: 0, rejected: 0, withdrawn: 0, undecided: 2, mediaRejected: 0 });
    // Approved clips keep their master (the renders' source); only the raw uploads went.
    expect(await app.services.storage.list(`originals/${approved}/`)).toEqual([]);
    expect(await app.services.storage.list(originalKey(undecided))).toEqual([originalKey(undecided)]);
    expect(await app.services.storage.list(originalSubtitlesKey(undecided))).toEqual([originalSubtitlesKey(undecided)]);

    // A year later an undecided clip still has its original.
    await deleteDueOriginals(deps, new Date(t0 + 365 * DAY));
    expect((await stored()).undecided).toBe(2);
  });

  test('when a rejected clip\'s declined retention is due, then its outputs, captioned previews and caption versions go with the original, the record says so, and the review page opens without media; an approved clip keeps its outputs', async () => {
    const subtitles = Buffer.from('1\n00:00:00,200 --> 00:00:01,000\nSalidarnasć\n');
    const clip = await FIXTURES.noAudio!();
    const [rejected, approved] = await Promise.all([0, 1].map(async () => (await runWorker(deps, await submitFile(app, clip, { subtitles })))._id.toHexString()));
    const t0 = Date.now();
    await reject(deps.db.submissions, rejected!, { by: 'moderator', reason: 'Off topic' });
    await approve(deps.db.submissions, approved!, { by: 'moderator' });
    // A moderator's edit of the contributor's words, and its captioned preview.
    for (const id of [rejected!, approved!]) {
      await addCaptionVersion(deps.db.captionVersions, { submissionId: id, language: 'be', cues: [{ startMs: 200, endMs: 1000, text: 'Salidarnasć!' }], source: 'edit', from: null, author: { id: 'mod', email: null }, now: new Date() });
      await deps.storage.upload(`captions/${id}/v2/preview.mp4`, Buffer.from('captioned'), 'video/mp4');
    }
    const held = async (id: string) => ({
      outputs: (await deps.storage.list(`outputs/${id}/`)).length,
      captioned: (await deps.storage.list(`captions/${id}/`)).length,
      versions: await deps.db.captionVersions.countDocuments({ submissionId: id }),
      recorded: Object.keys((await deps.db.submissions.findById(id).lean<Submission>())!.outputs).length,
    });
    const before = await held(rejected!);
    expect(before.outputs).toBeGreaterThanOrEqual(4); // preview, poster, master, clean subtitles
    expect(before).toMatchObject({ captioned: 1, versions: 1 });
    const approvedBefore = await held(approved!);

    await deleteDueOriginals(deps, new Date(t0 + 7 * DAY - 60_000));
    expect(await held(rejected!)).toEqual(before);

    const due = new Date(t0 + 7 * DAY + 60_000);
    await deleteDueOriginals(deps, due);
    expect(await held(rejected!)).toEqual({ outputs: 0, captioned: 0, versions: 0, recorded: 0 });
    const after = (await deps.db.submissions.findById(rejected).lean<Submission>())!;
    expect(after).toMatchObject({ status: 'rejected', mediaDeletedAt: due, originalDeletedAt: due });
    await expectNothingLeft(app, rejected!, 'declined');
    // Approved: the master is the renders' source, the preview the moderators'; only a withdrawal ends them.
    expect(await held(approved!)).toEqual(approvedBefore);
    await deleteDueOriginals(deps, new Date(t0 + 365 * DAY));
    expect(await held(approved!)).toEqual(approvedBefore);

    const page = await moderator.get(`/staff/review/${rejected}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('data-testid="media-deleted"');
    expect(page.html).toContain('7-day retention period');
    expect(page.html).not.toContain('<video');
    expect(page.html).not.toContain(`/staff/review/${rejected}/original`);
    expect(page.html).not.toContain(`/staff/review/${rejected}/captions`);
  });

  test('when a clip was rejected and its original deleted before its media went with it, then the next run deletes its media', async () => {
    const id = (await runWorker(deps, await submitFile(app, await FIXTURES.noAudio!())))._id.toHexString();
    await reject(deps.db.submissions, id, { by: 'moderator', reason: 'Off topic' });
    const earlier = new Date(Date.now() + 8 * DAY);
    // As an older version of the retention job left it: the original gone, the outputs kept.
    for (const key of await deps.storage.list(`originals/${id}/`)) await deps.storage.remove(key);
    await deps.db.submissions.updateOne({ _id: id }, { $set: { originalDeletedAt: earlier }, $unset: { mediaDeletedAt: 1 } });
    expect((await deps.storage.list(`outputs/${id}/`)).length).toBeGreaterThan(0);

    const later = new Date(Date.now() + 9 * DAY);
    expect(await deleteDueOriginals(deps, later)).toBe(0); // no original went this time
    expect((await deps.db.submissions.findById(id).lean<Submission>())!).toMatchObject({ originalDeletedAt: earlier, mediaDeletedAt: later, outputs: {} });
    await expectNothingLeft(app, id, 'declined');
  });
});

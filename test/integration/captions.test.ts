import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { captionPreviewJobId, releaseJobId, type QueueJob } from '../../shared/queue/queue';
import { approve } from '../../shared/submissions/moderation';
import { claimOf } from '../../shared/submissions/review-claims';
import type { Submission } from '../../shared/submissions/submission.model';
import { addCaptionVersion, findCaptionPreviewsPending, type CaptionVersion } from '../../shared/captions/caption-versions';
import type { WorkerDeps } from '../../worker/deps';
import { captionPreview } from '../../worker/handlers/caption-preview.handler';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { reconcile, RECONCILE } from '../../worker/reconciler';
import { rowsForm } from '../helpers/captions-form';
import { FIXTURES } from '../helpers/fixtures';
import { loginAs, makeStaff, testClock, type StaffClient } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { downloadOutput, runWorker, submitFile, workerDeps } from '../helpers/worker-env';

const run = promisify(execFile);
const SRT = Buffer.from('1\n00:00:00,200 --> 00:00:02,800\nСвабоду палітвязням!\n');
const json = { accept: 'application/json' };

/** Differing share of gray pixels between two videos' frames at 1.5 s, in the bottom third. */
async function bottomDifference(a: string, b: string): Promise<number> {
  const frame = async (path: string) =>
    (await run('ffmpeg', ['-v', 'error', '-ss', '1.5', '-i', path, '-frames:v', '1', '-vf', 'crop=iw:ih/3:0:ih*2/3', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { encoding: 'buffer', maxBuffer: 1 << 24 })).stdout as Buffer;
  const [x, y] = [await frame(a), await frame(b)];
  return x.reduce((n, byte, i) => n + (Math.abs(byte - (y[i] ?? 0)) > 40 ? 1 : 0), 0) / x.length;
}

/** Moderators edit captions as versions; the captioned preview is made again; the release uses the latest. */
describe('captions edited by moderators', () => {
  let app: TestApp;
  let deps: WorkerDeps;
  let ana: StaffClient;
  let boris: StaffClient;
  let id: string;
  const clock = testClock();

  const load = async () => (await deps.db.submissions.findById(id).lean<Submission>())!;
  const versions = async (language: string) => deps.db.captionVersions.find({ submissionId: id, language }).sort({ version: 1 }).lean<CaptionVersion[]>();
  const post = (client: StaffClient, path: string, body: string, headers: Record<string, string> = {}) =>
    client.request('POST', path, body, { 'content-type': 'application/x-www-form-urlencoded', ...headers });
  const renderPreview = (version: CaptionVersion) =>
    captionPreview(deps, { id: `caption-preview-${version._id.toHexString()}`, name: 'caption-preview', payload: { captionVersionId: version._id.toHexString() }, attempt: 1, maxAttempts: 5, reportProgress: async () => undefined } as QueueJob<'caption-preview'>);

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' }, clock.now);
    await seedDemoCampaign(app.deps);
    deps = workerDeps(app);
    ana = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { email: 'ana@example.org' }));
    boris = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { email: 'boris@example.org' }));
    const done = await runWorker(deps, await submitFile(app, await FIXTURES.rotated!(), { subtitles: SRT, language: 'be' }));
    expect(done.status).toBe('in_review');
    id = done._id.toHexString();
    await ana.get(`/staff/review/${id}`);
    expect((await ana.post(`/staff/review/${id}/claim`, {})).status).toBe(303);
  });

  afterAll(async () => {
    await app.close();
  });

  test('when a moderator edits a cue, then a new version is stored, the contributor\'s is kept as version 1, the claim stays, and the preview is made again with the new text', async () => {
    const page = await ana.get(`/staff/review/${id}/captions`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Свабоду палітвязням!');
    expect(page.html).toContain('value="00:00:00.200"');

    const saved = await post(ana, `/staff/review/${id}/captions`, rowsForm(ana, 'be', [['00:00:00.200', '00:00:02.800', 'FREEDOM FOR ALL POLITICAL PRISONERS']]));
    expect([saved.status, saved.location]).toEqual([303, `/staff/review/${id}/captions?lang=be&saved=2`]);
    const be = await versions('be');
    expect(be.map((v) => [v.version, v.source, v.author.email, v.cues.map((c) => c.text)])).toEqual([
      [1, 'contributor', null, ['Свабоду палітвязням!']],
      [2, 'edit', 'ana@example.org', ['FREEDOM FOR ALL POLITICAL PRISONERS']],
    ]);
    // No state changed: still in review, still Ana's claim.
    expect((await load()).status).toBe('in_review');
    expect((await claimOf(app.services.db.connection, id, clock.now()))?.email).toBe('ana@example.org');
    expect(await deps.queue.jobState(`caption-preview-${be[1]!._id.toHexString()}`)).toBe('waiting');
    const audit = await app.services.db.auditEntries.find({ 'target.id': id, action: 'captions_saved' }).lean();
    expect(audit.map((e) => e.details)).toEqual([{ language: 'be', version: 2, source: 'edit', cues: 1 }]);

    // The old version stays readable.
    const old = await ana.get(`/staff/review/${id}/captions?lang=be&version=1`);
    expect(old.html).toContain('Свабоду палітвязням!');
    expect(old.html).toContain('This is an older version; the latest is version 2.');

    // The re-rendered preview carries the new text where the caption is, and only there.
    await renderPreview(be[1]!);
    const rendered = (await deps.db.captionVersions.findById(be[1]!._id).lean<CaptionVersion>())!;
    expect(rendered.preview?.key).toBe(`captions/${id}/${be[1]!._id.toHexString()}/preview-captioned.mp4`);
    const submission = await load();
    const withEdit = await downloadOutput(deps, { ...submission, outputs: { edited: rendered.preview! } } as unknown as Submission, 'edited');
    const contributorCaptioned = await downloadOutput(deps, submission, 'captionedPreview');
    const plain = await downloadOutput(deps, submission, 'preview');
    expect(await bottomDifference(contributorCaptioned, withEdit)).toBeGreaterThan(0.01);
    expect(await bottomDifference(plain, withEdit)).toBeGreaterThan(0.01);
    const top = async (a: string, b: string) => {
      const frame = async (p: string) => (await run('ffmpeg', ['-v', 'error', '-ss', '1.5', '-i', p, '-frames:v', '1', '-vf', 'crop=iw:ih/3:0:0', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { encoding: 'buffer', maxBuffer: 1 << 24 })).stdout as Buffer;
      const [x, y] = [await frame(a), await frame(b)];
      return x.reduce((n, byte, i) => n + (Math.abs(byte - (y[i] ?? 0)) > 40 ? 1 : 0), 0) / x.length;
    };
    expect(await top(plain, withEdit)).toBeLessThan(0.005);
    // The review page offers it, streamed through the server.
    const review = await ana.get(`/staff/review/${id}?captions=be`);
    expect(review.html).toContain(`/staff/review/${id}/captions/${be[1]!._id.toHexString()}/preview`);
    const streamed = await ana.get(`/staff/review/${id}/captions/${be[1]!._id.toHexString()}/preview`);
    expect([streamed.status, streamed.headers.get('content-type')]).toEqual([200, 'video/mp4']);
  });

  test.each([
    ['an end before its start', [['00:00:02.000', '00:00:01.000', 'x']], 'Cue 1: the end (00:00:01.000) must come after the start (00:00:02.000).'],
    ['a time that is not one', [['1.5', '00:00:01.000', 'x']], 'Cue 1: the start &quot;1.5&quot; is not a time like 00:00:01.500.'],
    ['an end past the clip', [['00:00:01.000', '00:00:09.000', 'x']], 'Cue 1: the end (00:00:09.000) is past the end of the clip (00:00:03.000).'],
    ['overlapping cues', [['00:00:00.000', '00:00:02.000', 'a'], ['00:00:01.000', '00:00:02.500', 'b']], 'Cue 2: it starts (00:00:01.000) before cue 1 ends (00:00:02.000).'],
    ['an empty text', [['00:00:00.000', '00:00:01.000', '<b> </b>']], 'Cue 1: there is no text. Type it, or tick &quot;remove&quot;.'],
    ['a text too long', [['00:00:00.000', '00:00:01.000', 'x'.repeat(1001)]], 'Cue 1: the text is longer than 1,000 characters.'],
  ] as Array<[string, Array<[string, string, string]>, string]>)('when a cue has %s, then nothing is saved, the page says which cue and what, and keeps what was typed', async (_name, rows, message) => {
    const before = (await versions('be')).length;
    await ana.get(`/staff/review/${id}/captions`);
    const page = await post(ana, `/staff/review/${id}/captions`, rowsForm(ana, 'be', rows));
    expect(page.status).toBe(400);
    expect(page.html).toContain(message);
    expect(page.html).toContain(`value="${rows[0]![0]}"`);
    await ana.get(`/staff/review/${id}/captions`);
    const asJson = await post(ana, `/staff/review/${id}/captions`, rowsForm(ana, 'be', rows), json);
    expect([asJson.status, JSON.parse(asJson.html).code]).toEqual([400, 'captions_invalid']);
    expect((await versions('be')).length).toBe(before);
  });

  test('when a moderator types an English translation from the Belarusian, or uploads one, then each is a version of "en"; a broken file is refused with its line', async () => {
    const template = await ana.get(`/staff/review/${id}/captions?lang=en&from=be`);
    expect(template.html).toContain('New language en, translated from be');
    expect(template.html).toContain('FREEDOM FOR ALL POLITICAL PRISONERS'); // the text to translate, as a hint
    const saved = await post(ana, `/staff/review/${id}/captions`, rowsForm(ana, 'en', [['00:00:00.200', '00:00:02.800', 'Freedom for political prisoners!']], [['from', 'be']]));
    expect(saved.location).toBe(`/staff/review/${id}/captions?lang=en&saved=1`);

    const upload = async (file: string, lang = 'en') => {
      await ana.get(`/staff/review/${id}/captions?lang=en`);
      const form = new FormData();
      form.append('_csrf', ana.csrf());
      form.append('lang', lang);
      form.append('file', new Blob([Buffer.from(file, 'utf8')]), 'en.vtt');
      const response = await fetch(`${app.baseUrl}/staff/review/${id}/captions/upload`, { method: 'POST', body: form, redirect: 'manual', headers: { cookie: [...ana.cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...json } });
      return { status: response.status, location: response.headers.get('location'), body: await response.text() };
    };
    const good = await upload('WEBVTT\n\n00:00.300 --> 00:02.500\n<i>Free them all!</i>\n');
    expect([good.status, good.location]).toEqual([303, `/staff/review/${id}/captions?lang=en&saved=2`]);
    const broken = await upload('WEBVTT\n\n00:00.300 -> 00:02.500\nFree them\n');
    expect([broken.status, JSON.parse(broken.body).code]).toEqual([400, 'captions_file_invalid']);
    expect(JSON.parse(broken.body).title).toBe('The subtitle file could not be read at line 4: expected a timing like "00:00:01,000 --> 00:00:02,500", found "Free them".');
    const tooLong = await upload('WEBVTT\n\n00:00.300 --> 00:09.500\nFree them\n');
    expect([tooLong.status, JSON.parse(tooLong.body).code]).toEqual([400, 'captions_invalid']);
    expect((await versions('en')).map((v) => [v.version, v.source, v.from, v.cues[0]!.text])).toEqual([
      [1, 'translation', 'be', 'Freedom for political prisoners!'],
      [2, 'upload', null, 'Free them all!'],
    ]);
  });

  test('when a version\'s preview job was lost, then the reconciler queues it again; a superseded version is given up on, not queued again', async () => {
    const lost = await addCaptionVersion(deps.db.captionVersions, { submissionId: id, language: 'uk', cues: [{ startMs: 0, endMs: 1000, text: 'Солідарність' }], source: 'edit', from: null, author: { id: 'x', email: null }, now: new Date(Date.now() - 10 * 60_000) });
    const job = captionPreviewJobId(lost._id.toHexString());
    expect(await deps.queue.jobState(job)).toBeNull();
    await reconcile(deps, new Date(Date.now() + RECONCILE.receivedGraceMs + 1_000), { reviewQueue: false });
    expect(await deps.queue.jobState(job)).toBe('waiting');
    // A newer version arrives before the job runs: the old one is not rendered, and says why.
    await addCaptionVersion(deps.db.captionVersions, { submissionId: id, language: 'uk', cues: [{ startMs: 0, endMs: 1000, text: 'Солідарність!' }], source: 'edit', from: null, author: { id: 'x', email: null }, now: new Date() });
    await renderPreview(lost);
    const skipped = (await deps.db.captionVersions.findById(lost._id).lean<CaptionVersion>())!;
    expect([skipped.preview, skipped.previewError]).toEqual([null, 'superseded: a newer version of this language is rendered instead']);
    expect((await findCaptionPreviewsPending(deps.db.captionVersions, new Date(), 100)).map((v) => v._id.toHexString())).not.toContain(lost._id.toHexString());
  });

  test('when the form is larger than any 5000 cues could make it, then it is refused as too large, not as a server error', async () => {
    await ana.get(`/staff/review/${id}/captions`);
    const huge = rowsForm(ana, 'be', [['00:00:00.000', '00:00:01.000', 'x'.repeat(3000)]]) + '&text='.repeat(1) + 'y'.repeat(5 * 1024 * 1024);
    const answer = await post(ana, `/staff/review/${id}/captions`, huge, json);
    expect([answer.status, JSON.parse(answer.html).code]).toEqual([413, 'captions_form_too_large']);
  });

  test('when another moderator holds the claim, then they cannot save captions', async () => {
    await boris.get(`/staff/review/${id}/captions`);
    const refused = await post(boris, `/staff/review/${id}/captions`, rowsForm(boris, 'be', [['00:00:00.200', '00:00:02.800', 'mine']]), json);
    expect([refused.status, JSON.parse(refused.html).code]).toEqual([409, 'claimed_by_other']);
  });

  test('when the clip is approved and released, then the release burns and writes the latest version of each language', async () => {
    await approve(deps.db.submissions, id, { by: 'moderator' });
    await releaseSubmission(deps, { id: releaseJobId(id), name: 'release-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined });
    const released = await load();
    expect(released.status).toBe('released');
    expect(released.release!.languages.sort()).toEqual(['be', 'en', 'uk']);
    const asRelease = { ...released, outputs: released.release!.outputs } as Submission;
    const text = async (name: string) => (await run('cat', [await downloadOutput(deps, asRelease, name)])).stdout;
    expect(await text('captions-be-vtt')).toBe('WEBVTT\n\n00:00:00.200 --> 00:00:02.800\nFREEDOM FOR ALL POLITICAL PRISONERS\n');
    expect(await text('captions-en-vtt')).toBe('WEBVTT\n\n00:00:00.300 --> 00:00:02.500\nFree them all!\n');
    expect(Object.keys(released.release!.outputs)).toEqual(expect.arrayContaining(['source-en', 'square-en', 'vertical-en']));
    // Editing is for clips in review.
    await ana.get(`/staff/review/${id}/captions`);
    const late = await post(ana, `/staff/review/${id}/captions`, rowsForm(ana, 'be', [['00:00:00.200', '00:00:02.800', 'late']]), json);
    expect([late.status, JSON.parse(late.html).code]).toEqual([409, 'submission_state_conflict']);
  });
});

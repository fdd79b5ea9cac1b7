import { readFile } from 'node:fs/promises';
import { captionPreviewJobId, releaseJobId, type QueueJob } from '../../shared/queue/queue';
import type { CaptionVersion } from '../../shared/captions/caption-versions';
import { originalKey, originalSubtitlesKey } from '../../shared/storage/keys';
import { approve } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import { createFeedToken } from '../../server/services/distribution.service';
import type { WorkerDeps } from '../../worker/deps';
import { captionPreview } from '../../worker/handlers/caption-preview.handler';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { deleteDueOriginals } from '../../worker/retention';
import { rowsForm } from '../helpers/captions-form';
import { FIXTURES, makeFixture, TAGGED } from '../helpers/fixtures';
import { postMultipart } from '../helpers/multipart';
import { jpegMarkers, objectFindings, privacySweep, textFindings, type SourceTraces } from '../helpers/privacy-sweep';
import { loginAs, makeStaff, testClock, type StaffClient } from '../helpers/staff-client';
import { demoConsent, seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { runWorker, workerDeps } from '../helpers/worker-env';

const SRT = Buffer.from('1\n00:00:00,200 --> 00:00:02,800\nСвабоду палітвязням!\n');
const DAY = 24 * 3600 * 1000;

/** Everything the `everyTag` clip says about its phone, its place and its time. */
const TRACES: SourceTraces = {
  strings: [TAGGED.make, TAGGED.model, TAGGED.software, TAGGED.latitude, TAGGED.longitude, TAGGED.xmpLatitude, TAGGED.xmpLongitude, TAGGED.creatorTool, '2023-07-19'],
  createdAt: new Date(TAGGED.createdAt),
};

/**
 * The privacy promise over a clip's whole life: a clip tagged every way a phone tags one, with subtitles, is
 * processed, its captions edited and translated, approved, released in every shape and language and listed in
 * the feeds; then every object stored for it, under every prefix, is swept (test/helpers/privacy-sweep.ts).
 */
describe('the privacy sweep over a clip\'s whole life', () => {
  let app: TestApp;
  let deps: WorkerDeps;
  let moderator: StaffClient;
  const clock = testClock();

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12', ORIGINAL_RETENTION_DAYS: '30', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' }, clock.now);
    await seedDemoCampaign(app.deps);
    deps = workerDeps(app);
    moderator = await loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { campaigns: ['demo'] }));
  });

  afterAll(async () => {
    await app.close();
  });

  test('when the source carries every tag, then the sweep finds each of them in the source itself (what it looks for is there to be found)', async () => {
    const source = await readFile(await FIXTURES.everyTag!());
    const findings = await objectFindings('source.mov', source, TRACES);
    for (const needle of TRACES.strings) expect(findings).toContain(`the bytes hold "${needle}"`);
    expect(findings).toContain('the bytes hold the source\'s creation time (32-bit, since 1904)');
    // ffprobe reads the Apple keys, the Android ©xyz location and the creation time as tags.
    const tagFindings = findings.filter((f) => f.includes(' tag '));
    for (const tag of ['com.apple.quicktime.make', 'com.apple.quicktime.model', 'com.apple.quicktime.location.ISO6709', 'location', 'creation_time']) {
      expect(tagFindings.some((f) => f.startsWith(`format tag ${tag}=`))).toBe(true);
    }
  });

  test('when a poster carries EXIF, XMP or a comment, then the sweep names each marker; a clean one passes', async () => {
    const clean = await readFile(await makeFixture('sweep-poster.jpg', ['-f', 'lavfi', '-i', 'testsrc2=size=160x90', '-frames:v', '1', '-fflags', '+bitexact', '-flags:v', '+bitexact']));
    expect(jpegMarkers(clean).slice(0, 1)).toEqual(['APP0']);
    expect(await objectFindings('outputs/x/poster.jpg', clean, TRACES)).toEqual([]);
    const segment = (marker: number, text: string) => {
      const body = Buffer.from(text, 'latin1');
      const header = Buffer.from([0xff, marker, 0, 0]);
      header.writeUInt16BE(body.length + 2, 2);
      return Buffer.concat([header, body]);
    };
    const tagged = Buffer.concat([clean.subarray(0, 2), segment(0xe1, 'Exif\0\0MM'), segment(0xe1, 'http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>'), segment(0xfe, 'Lavc59.37.100'), clean.subarray(2)]);
    expect(await objectFindings('outputs/x/poster.jpg', tagged, TRACES)).toEqual(['JPEG markers APP1, APP1, COM']);
  });

  test('when the clip is processed, its captions edited and translated, approved, released in every shape and language and fed, then no object holds a tag, a marker or a byte of its source\'s maker, place or time', async () => {
    const response = await postMultipart(
      `${app.baseUrl}/api/submissions`,
      { campaign: 'demo', organisation: 'Sweep union', country: 'UA', language: 'be', title: 'Sweep', consent: demoConsent('en') },
      [{ field: 'video', filename: 'IMG_0001.MOV', content: await readFile(await FIXTURES.everyTag!()) }, { field: 'subtitles', filename: 'IMG_0001.srt', content: SRT }],
    );
    expect(response.status).toBe(202);
    const id = String(response.json.id);
    const processed = await runWorker(deps, id);
    expect(processed.status).toBe('in_review');

    // A moderator edits the Belarusian captions and adds an English translation; each version's preview is rendered.
    await moderator.get(`/staff/review/${id}`);
    expect((await moderator.post(`/staff/review/${id}/claim`, {})).status).toBe(303);
    const saveCaptions = async (lang: string, text: string, extra: Array<[string, string]> = []) => {
      await moderator.get(`/staff/review/${id}/captions?lang=${lang}`);
      const saved = await moderator.request('POST', `/staff/review/${id}/captions`, rowsForm(moderator, lang, [['00:00:00.200', '00:00:02.800', text]], extra), {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(saved.status).toBe(303);
    };
    await saveCaptions('be', 'СВАБОДУ ЎСІМ');
    await saveCaptions('en', 'Freedom for all', [['from', 'be']]);
    const versions = await deps.db.captionVersions.find({ submissionId: id }).lean<CaptionVersion[]>();
    expect(versions.map((v) => [v.language, v.version]).sort()).toEqual([['be', 1], ['be', 2], ['en', 1]]);
    for (const version of versions.filter((v) => v.source !== 'contributor')) {
      const versionId = version._id.toHexString();
      const job = { id: captionPreviewJobId(versionId), name: 'caption-preview', payload: { captionVersionId: versionId }, attempt: 1, maxAttempts: 5, reportProgress: async () => undefined };
      await captionPreview(deps, job as QueueJob<'caption-preview'>);
    }
    const previews = (await deps.db.captionVersions.find({ submissionId: id, preview: { $ne: null } }).lean<CaptionVersion[]>()).map((v) => v.preview!.key);
    expect(previews).toHaveLength(2);

    await approve(deps.db.submissions, id, { by: 'moderator', queue: deps.queue });
    await releaseSubmission(deps, { id: releaseJobId(id), name: 'release-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined });
    const released = (await deps.db.submissions.findById(id).lean<Submission>())!;
    expect(released.status).toBe('released');
    expect(released.release!.languages.sort()).toEqual(['be', 'en']);

    // The feeds list it, and a file fetched through them is one of the release objects swept below.
    const feed = await createFeedToken(app.deps, { campaign: 'demo', team: 'Social team', use: 'social', createdBy: 'admin' }, new Date());
    const feedJson = await (await fetch(`${app.baseUrl}/api/feeds/${feed.token}/releases.json`)).text();
    const feedAtom = await (await fetch(`${app.baseUrl}/api/feeds/${feed.token}/releases.atom`)).text();
    expect(feedJson).toContain(id);
    expect(feedAtom).toContain(id);
    const served: string[] = [...textFindings('JSON feed', feedJson, TRACES), ...textFindings('Atom feed', feedAtom, TRACES)];
    const attachment = (JSON.parse(feedJson) as { items: Array<{ id: string; attachments: Array<{ url: string }> }> }).items.find((i) => i.id === id)!.attachments[0]!;
    const redirect = await fetch(`${app.baseUrl}${new URL(attachment.url, app.baseUrl).pathname}`, { redirect: 'manual' });
    expect(redirect.status).toBe(303);
    const fetched = Buffer.from(await (await fetch(redirect.headers.get('location')!)).arrayBuffer());
    served.push(...(await objectFindings('a file fetched through the feed', fetched, TRACES)));
    // The clip's records say nothing of it either (its media description, its caption versions).
    served.push(...textFindings('submission record', JSON.stringify(released), TRACES));
    served.push(...textFindings('caption versions', JSON.stringify(await deps.db.captionVersions.find({ submissionId: id }).lean()), TRACES));
    expect(served).toEqual([]);

    // Every object under every prefix; the raw uploads are what the contributor sent (kept until the retention job).
    const raw = [originalKey(id), originalSubtitlesKey(id)];
    const sweep = await privacySweep(app.services.storage, id, TRACES, raw);
    expect(sweep.findings).toEqual([]);
    expect(sweep.exempt).toEqual(raw.sort());
    // It saw everything recorded: the processing outputs, the caption-edit previews, every release render.
    const recorded = [...Object.values(released.outputs), ...Object.values(released.release!.outputs)].map((o) => o.key).concat(previews);
    expect(sweep.checked).toEqual(recorded.sort());
    const count = (prefix: string) => sweep.checked.filter((k) => k.startsWith(`${prefix}/${id}/`)).length;
    // master, preview, captioned preview, poster, VTT, SRT; two caption previews; 3 shapes × (plain, be, en) + 3 posters + 2 × (SRT, VTT).
    expect([count('outputs'), count('captions'), count('releases')]).toEqual([6, 2, 16]);

    // Once the retention job has taken the raw uploads, nothing is exempt and nothing is found.
    await deleteDueOriginals(deps, new Date(Date.now() + 31 * DAY));
    const after = await privacySweep(app.services.storage, id, TRACES);
    expect([after.exempt, after.findings, after.checked]).toEqual([[], [], recorded.sort()]);
  });
});

import { Writable } from 'node:stream';
import { Types } from 'mongoose';
import { createLogger } from '../../shared/logger';
import type { FaceTrack } from '../../shared/protection/face-track';
import { captionPreviewJobId, protectJobId, releaseJobId, type QueueJob } from '../../shared/queue/queue';
import { addCaptionVersion, type CaptionVersion } from '../../shared/captions/caption-versions';
import { captionPreview } from '../../worker/handlers/caption-preview.handler';
import { approve } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import { enableFaceProtection, saveFaceMasks } from '../../server/services/protection.service';
import { approveClip, CHECKLIST, type Checklist, type Moderator } from '../../server/services/review.service';
import type { WorkerDeps } from '../../worker/deps';
import { createFaceDetector, type FaceDetector } from '../../worker/faces/face-detector';
import { protectClip } from '../../worker/handlers/protect-clip.handler';
import { analysisSize } from '../../worker/steps/detect-faces.step';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { privacySweep, sourceTraces } from '../helpers/privacy-sweep';
import { faceFixtures, type FaceFixture } from '../helpers/face-fixtures';
import { createSecondDetector } from '../helpers/face-oracle';
import { makeFixture } from '../helpers/fixtures';
import { blackShare, coverReport, decodeFrames, facesIn, toneFrequency } from '../helpers/protection-checks';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { downloadOutput, runWorker, submitFile, workerDeps } from '../helpers/worker-env';

/**
 * Identity protection end to end on real faces (group photos from a registry package, moved by ffmpeg: panned,
 * zoomed, turned 90°, at 25 and 60 fps, VFR, without sound), the real worker, ffmpeg, S3 and database: the primary
 * detector's every face on the clean master is covered in every frame of the protected master; a second,
 * independent detector finds no face in any protected output; the voice is moved by a factor nobody can read back;
 * nothing unprotected is left after approval.
 */
describe('identity protection', () => {
  let app: TestApp;
  let deps: WorkerDeps;
  let primary: FaceDetector;
  let second: FaceDetector;
  let fixtures: FaceFixture[];
  const logLines: string[] = [];
  const processed = new Map<string, string>();
  const moderators: Moderator[] = ['a', 'b'].map((n) => ({ id: new Types.ObjectId().toHexString(), email: `${n}@union.test`, role: 'moderator', campaigns: [] }));
  const allClear = Object.fromEntries(CHECKLIST.map((item) => [item, item === 'faces' || item === 'protection' ? 'present' : 'clear'])) as Checklist;

  beforeAll(async () => {
    app = await startTestApp();
    await seedDemoCampaign(app.deps);
    // Every log line of the worker, at the most verbose level, is kept: the voice factor must be in none.
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => void (logLines.push(chunk.toString('utf8')), done()) });
    deps = workerDeps(app, { logger: createLogger({ level: 'trace', name: 'worker', destination: sink }) });
    [primary, second, fixtures] = await Promise.all([createFaceDetector(), createSecondDetector(), faceFixtures()]);
  }, 240_000);

  afterAll(async () => {
    await Promise.all([primary?.close(), second?.close()]);
    await app.close();
  });

  const load = async (id: string) => (await deps.db.submissions.findById(id).lean<Submission>())!;
  const reviewDeps = () => ({ db: deps.db, now: () => new Date(), claimSeconds: 900, queue: deps.queue });

  test.each(['pan-zoom-25', 'zoom-sway-60', 'portrait-rotated-30', 'vfr-jitter', 'wide-small-mute'])(
    'when the clip %s asks to hide the face, then every face on its clean master is covered in every frame of the protected master, and the second detector finds none in the preview or poster',
    async (name) => {
      const fixture = fixtures.find((f) => f.name === name)!;
      const id = await submitFile(app, fixture.path, { protection: { face: true, voice: fixture.audio, card: false } });
      const done = await runWorker(deps, id);
      expect(done.status).toBe('in_review');
      processed.set(name, id);
      expect(Object.keys(done.outputs).sort()).toEqual(['master', 'poster', 'preview', 'protectedMaster']);
      const track = await deps.db.faceTracks.findById(id).lean<FaceTrack>();
      expect(track).toMatchObject({ detector: { name: primary.name, version: primary.version }, version: 1, renderedVersion: 1 });
      expect(track!.masks.length).toBeGreaterThan(0);

      // The primary detector sees every frame (not only the analysed ones) at the worker's analysis size.
      const { width } = analysisSize({ width: done.media!.video!.displayWidth, height: done.media!.video!.displayHeight });
      const clean = await decodeFrames(await downloadOutput(deps, done, 'master'), width);
      const masked = await decodeFrames(await downloadOutput(deps, done, 'protectedMaster'), width);
      expect(masked.frames.length).toBe(clean.frames.length);
      const report = await coverReport(primary, clean, masked);
      expect(report.faces).toBeGreaterThan(clean.frames.length);
      const recall = report.covered / report.faces;
      if (recall < 1) process.stdout.write(`${name}: ${report.covered}/${report.faces} faces covered; first misses ${JSON.stringify(report.misses.slice(0, 5))}\n`);
      // The bench's target is 0.98 over all fixtures (npm run bench:identity reports it, and misses it today: 0.95–0.99
      // a clip); each clip here must reach 0.94. What is missed is the detector itself flickering on a face at the
      // frame's edge or at a low score on a frame it does not analyse, which the moderator's frame-by-frame check is
      // there to catch.
      expect(recall).toBeGreaterThanOrEqual(0.94);

      expect(await facesIn(second, await downloadOutput(deps, done, 'preview'))).toEqual([]);
      const poster = await decodeFrames(await downloadOutput(deps, done, 'poster'), 640);
      expect(await second.detect({ data: poster.frames[0]!, width: poster.width, height: poster.height })).toEqual([]);
    },
    300_000,
  );

  test('when a protected clip is approved and released, then no render of any shape shows a face to the second detector, and its original and unprotected master are gone', async () => {
    const id = processed.get('pan-zoom-25')!;
    expect(id).toBeDefined();
    const before = await load(id);
    const masterKey = before.outputs.master!.key;
    expect(await app.services.storage.list(`originals/${id}/`)).not.toEqual([]);
    await approve(deps.db.submissions, id, { by: 'moderator' });
    const job: QueueJob<'release-submission'> = { id: releaseJobId(id), name: 'release-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined };
    await releaseSubmission(deps, job);
    const released = await load(id);
    expect(released.status).toBe('released');
    // Nothing unprotected is stored: no original, no clean master; only what was drawn from the protected master.
    expect(await app.services.storage.list(`originals/${id}/`)).toEqual([]);
    expect((await app.services.storage.list(`outputs/${id}/`)).includes(masterKey)).toBe(false);
    expect(released.outputs.master).toBeUndefined();
    expect(released.originalDeletedAt).not.toBeNull();
    // Every object left of it (protected master, masked previews and poster, every render) passes the privacy sweep.
    const sweep = await privacySweep(app.services.storage, id, await sourceTraces(fixtures.find((f) => f.name === 'pan-zoom-25')!.path));
    expect(sweep.findings).toEqual([]);
    expect(sweep.exempt).toEqual([]);
    expect(sweep.checked).toEqual(expect.arrayContaining([released.outputs.protectedMaster!.key, released.outputs.poster!.key]));
    const renders = Object.keys(released.release!.outputs).filter((name) => !name.startsWith('captions-'));
    expect(renders.length).toBeGreaterThanOrEqual(6);
    for (const name of renders) {
      const path = await downloadOutput(deps, { outputs: released.release!.outputs } as unknown as Submission, name);
      if (name.startsWith('poster')) {
        const frame = await decodeFrames(path, 640);
        expect({ name, faces: await second.detect({ data: frame.frames[0]!, width: frame.width, height: frame.height }) }).toEqual({ name, faces: [] });
      } else {
        expect({ name, faces: await facesIn(second, path) }).toEqual({ name, faces: [] });
      }
    }
  }, 300_000);

  test('when the voice is disguised, then the sound moves by a secret factor in 0.78–0.85 or 1.18–1.25, different from clip to clip, that no document, job or log line holds', async () => {
    const tone = await makeFixture('protect-voice-tone.mp4', ['-f', 'lavfi', '-i', 'testsrc2=duration=3:size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=3:sample_rate=48000', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest']);
    const factors: number[] = [];
    logLines.length = 0; // the earlier tests' lines (face scores, box sizes) hold numbers that are no factor
    for (let i = 0; i < 3; i++) {
      const id = await submitFile(app, tone, { protection: { face: false, voice: true, card: false } });
      const done = await runWorker(deps, id);
      expect(done.status).toBe('in_review');
      const plain = await toneFrequency(await downloadOutput(deps, done, 'master'));
      const shifted = await toneFrequency(await downloadOutput(deps, done, 'protectedMaster'));
      const preview = await toneFrequency(await downloadOutput(deps, done, 'preview'));
      expect(plain).toBeCloseTo(440, -1);
      const factor = shifted / plain;
      expect((factor > 0.77 && factor < 0.86) || (factor > 1.17 && factor < 1.26)).toBe(true);
      expect(preview / plain).toBeCloseTo(factor, 2);
      factors.push(factor);
      // Any number near the measured factor (±0.005, the tone measure's error) written with three or more decimals,
      // anywhere it could have been kept: this clip's document and tracks, and the worker's log lines of this test.
      const kept = [JSON.stringify(await load(id)), JSON.stringify(await deps.db.faceTracks.findById(id).lean()), logLines.join('\n')];
      for (const text of kept) expect((text.match(/\d+\.\d{3,}/g) ?? []).filter((n) => Math.abs(Number(n) - factor) < 0.005)).toEqual([]);
    }
    const spread = Math.max(...factors) - Math.min(...factors);
    expect(spread).toBeGreaterThan(0.002);
  }, 300_000);

  test('when processing draws a protected clip, then it is in review once its protected preview is stored, approval waits for the protected master, and a job of its own draws it with the same disguised sound', async () => {
    const tone = await makeFixture('protect-voice-tone.mp4', ['-f', 'lavfi', '-i', 'testsrc2=duration=3:size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=3:sample_rate=48000', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest']);
    const id = await submitFile(app, tone, { protection: { face: false, voice: true, card: false } });
    const reviewing = await runWorker(deps, id, { followUp: false });
    expect(reviewing.status).toBe('in_review');
    expect(Object.keys(reviewing.outputs).sort()).toEqual(['master', 'poster', 'preview']);
    expect(reviewing.protectedRender).toMatchObject({ trackVersion: 0 });
    expect(await deps.queue.jobState(protectJobId(id, 0, 'master'))).toBe('waiting');
    const [ana] = moderators as [Moderator];
    await expect(approveClip(reviewDeps(), ana, id, allClear, { protectedChecked: true })).rejects.toMatchObject({ code: 'protection_rendering', status: 409 });

    const masterJob = { id: protectJobId(id, 0, 'master'), name: 'protect-clip' as const, payload: { submissionId: id, trackVersion: 0, part: 'master' as const }, attempt: 1, maxAttempts: 5, reportProgress: async () => undefined };
    await protectClip(deps, masterJob);
    const mastered = await load(id);
    // The preview is the one processing drew; the protected master is new, its sound the preview's (one factor).
    expect(mastered.outputs.preview).toEqual(reviewing.outputs.preview);
    const plain = await toneFrequency(await downloadOutput(deps, mastered, 'master'));
    const factor = (await toneFrequency(await downloadOutput(deps, mastered, 'preview'))) / plain;
    expect((factor > 0.77 && factor < 0.86) || (factor > 1.17 && factor < 1.26)).toBe(true);
    expect((await toneFrequency(await downloadOutput(deps, mastered, 'protectedMaster'))) / plain).toBeCloseTo(factor, 2);
    // Run again (a retry, a duplicate): nothing changes.
    await protectClip(deps, masterJob);
    expect((await load(id)).outputs.protectedMaster).toEqual(mastered.outputs.protectedMaster);
    expect(await approveClip(reviewDeps(), ana, id, allClear, { protectedChecked: true })).toEqual({ kind: 'vote', approvals: 1, needed: 2 });
  }, 300_000);

  test('when the contributor asks not to be shown, then every frame is the campaign card and the voice is disguised', async () => {
    const fixture = fixtures.find((f) => f.name === 'pan-zoom-25')!;
    const id = await submitFile(app, fixture.path, { protection: { face: false, voice: true, card: true } });
    const done = await runWorker(deps, id);
    expect(done.status).toBe('in_review');
    expect(await deps.db.faceTracks.findById(id).lean()).toBeNull();
    const frames = await decodeFrames(await downloadOutput(deps, done, 'preview'), 320, { fps: 4 });
    for (const frame of frames.frames) {
      // The demo campaign has no accent colour: the default card colour #1d3557 everywhere (within coding error).
      let off = 0;
      for (let i = 0; i < frame.length; i += 3) if (Math.abs(frame[i]! - 0x1d) + Math.abs(frame[i + 1]! - 0x35) + Math.abs(frame[i + 2]! - 0x57) > 30) off += 1;
      expect(off / (frame.length / 3)).toBeLessThan(0.01);
    }
  }, 300_000);

  test('when a moderator picks strong pixelation, then the faces are drawn again as big blocks the second detector cannot read, the rest of the picture untouched, and the choice is audited', async () => {
    const fixture = fixtures.find((f) => f.name === 'pan-zoom-25')!;
    const id = await submitFile(app, fixture.path, { protection: { face: true, voice: false, card: false } });
    expect((await runWorker(deps, id)).status).toBe('in_review');
    const track = (await deps.db.faceTracks.findById(id).lean<FaceTrack>())!;
    expect(track.style).toBe('solid');
    const [ana] = moderators as [Moderator];
    // A moderator's caption version, its preview burned into the solid-masked protected preview.
    const captions = await addCaptionVersion(deps.db.captionVersions, { submissionId: id, now: new Date(), language: 'en', cues: [{ startMs: 0, endMs: 2000, text: 'Freedom' }], source: 'edit', from: null, author: { id: ana.id, email: ana.email } });
    const captionJob = (render: number) => ({ id: captionPreviewJobId(captions._id.toHexString(), render), name: 'caption-preview' as const, payload: { captionVersionId: captions._id.toHexString(), render }, attempt: 1, maxAttempts: 5, reportProgress: async () => undefined });
    await captionPreview(deps, captionJob(0));
    const solidCaptioned = (await deps.db.captionVersions.findById(captions._id).lean<CaptionVersion>())!.preview!;

    const saved = await saveFaceMasks(reviewDeps(), ana, id, { version: track.version, keep: track.masks.map((m) => m.id), boxes: [], style: 'pixelate' });
    expect(saved).toMatchObject({ version: 2, style: 'pixelate' });
    await protectClip(deps, { id: protectJobId(id, 2), name: 'protect-clip', payload: { submissionId: id, trackVersion: 2 }, attempt: 1, maxAttempts: 5, reportProgress: async () => undefined });
    const redrawn = await load(id);

    // The caption preview drawn over the old masks is gone, and drawn again over the new ones by a job of its own.
    expect(await deps.db.captionVersions.findById(captions._id).lean<CaptionVersion>()).toMatchObject({ preview: null, previewRender: 1 });
    expect(await app.services.storage.list(solidCaptioned.key)).toEqual([]);
    expect(await deps.queue.jobState(captionPreviewJobId(captions._id.toHexString(), 1))).toBe('waiting');
    await captionPreview(deps, captionJob(1));
    const captioned = (await deps.db.captionVersions.findById(captions._id).lean<CaptionVersion>())!.preview!;
    expect(captioned.sha256).not.toBe(solidCaptioned.sha256);

    // Every frame of the protected master at 2 fps: no face for the second detector, and under each mask the
    // picture is made of blocks (a 720p master: 60 px blocks), not black.
    const master = await downloadOutput(deps, redrawn, 'protectedMaster');
    expect(await facesIn(second, master, 1280)).toEqual([]);
    expect(await facesIn(second, await downloadOutput(deps, redrawn, 'preview'))).toEqual([]);
    const captionedPath = await downloadOutput(deps, { ...redrawn, outputs: { ...redrawn.outputs, captionedPreview: captioned } }, 'captionedPreview');
    expect(await facesIn(second, captionedPath)).toEqual([]);
    const frames = await decodeFrames(master, 1280, { fps: 2 });
    const clean = await decodeFrames(await downloadOutput(deps, redrawn, 'master'), 1280, { fps: 2 });
    const face = (await primary.detect({ data: clean.frames[2]!, width: clean.width, height: clean.height }))[0]!;
    expect(face).toBeDefined();
    const frame = frames.frames[2]!;
    expect(blackShare(frame, frames.width, frames.height, face)).toBeLessThan(0.5);
    // Inside the face's box, runs of equal pixels along a row are a block wide (about 60 px), not 1–2 px.
    const row = Math.round(face.y + face.height / 2);
    let changes = 0;
    for (let x = Math.ceil(face.x) + 1; x < Math.floor(face.x + face.width); x++) {
      const a = (row * frames.width + x) * 3;
      const b = a - 3;
      if (Math.abs(frame[a]! - frame[b]!) + Math.abs(frame[a + 1]! - frame[b + 1]!) + Math.abs(frame[a + 2]! - frame[b + 2]!) > 24) changes += 1;
    }
    expect(changes).toBeLessThanOrEqual(Math.ceil(face.width / 60) + 1);
    // Far from every mask (the bottom rows, below the faces), the protected picture is the clean one.
    const bottom = (frames.height - 4) * frames.width * 3;
    let differ = 0;
    for (let i = bottom; i < bottom + frames.width * 3; i++) if (Math.abs(frame[i]! - clean.frames[2]![i]!) > 24) differ += 1;
    expect(differ / (frames.width * 3)).toBeLessThan(0.05);
    const audit = await deps.db.auditEntries.findOne({ 'target.id': id, action: 'faces_edited' }).lean<{ details: { style: string } }>();
    expect(audit?.details.style).toBe('pixelate');
  }, 300_000);

  test('when moderators check a protected clip, then approval waits for their confirmation and for the latest masks, a box they add is drawn over the picture, and each step is audited', async () => {
    const fixture = fixtures.find((f) => f.name === 'wide-small-mute')!;
    const id = await submitFile(app, fixture.path, { protection: { face: true, voice: false, card: false } });
    const done = await runWorker(deps, id);
    expect(done.status).toBe('in_review');
    const [ana, ben] = moderators as [Moderator, Moderator];

    await expect(approveClip(reviewDeps(), ana, id, allClear)).rejects.toMatchObject({ code: 'protection_unconfirmed', status: 400 });

    const track = (await deps.db.faceTracks.findById(id).lean<FaceTrack>())!;
    const added = { start: 0, end: 2, x: 0.8, y: 0.05, w: 0.15, h: 0.2 };
    const saved = await saveFaceMasks(reviewDeps(), ana, id, { version: track.version, keep: track.masks.map((m) => m.id), boxes: [added] });
    expect(saved.version).toBe(2);
    await expect(saveFaceMasks(reviewDeps(), ben, id, { version: track.version, keep: [], boxes: [] })).rejects.toMatchObject({ code: 'faces_changed' });
    await expect(saveFaceMasks(reviewDeps(), ben, id, { version: 2, keep: [], boxes: [{ ...added, x: 0.9 }] })).rejects.toMatchObject({ code: 'faces_invalid' });
    // Until the preview shows version 2, nobody approves.
    await expect(approveClip(reviewDeps(), ana, id, allClear, { protectedChecked: true })).rejects.toMatchObject({ code: 'protection_rendering', status: 409 });

    const oldPreview = (await load(id)).outputs.preview!.key;
    await protectClip(deps, { id: protectJobId(id, 2), name: 'protect-clip', payload: { submissionId: id, trackVersion: 2 }, attempt: 1, maxAttempts: 5, reportProgress: async () => undefined });
    const redrawn = await load(id);
    expect(redrawn.outputs.preview!.key).not.toBe(oldPreview);
    expect(await app.services.storage.list(`outputs/${id}/`)).not.toContain(oldPreview);
    const frames = await decodeFrames(await downloadOutput(deps, redrawn, 'preview'), 640, { fps: 2 });
    const { width, height } = frames;
    // At 0.5 s and 1.5 s the added box (80–95 % across, 5–25 % down) is solid black.
    for (const frame of [frames.frames[1]!, frames.frames[3]!]) {
      expect(blackShare(frame, width, height, { x: 0.8 * width, y: 0.05 * height, width: 0.15 * width, height: 0.2 * height })).toBeGreaterThan(0.97);
    }
    // After it, the corner shows the picture again.
    expect(blackShare(frames.frames[6]!, width, height, { x: 0.8 * width, y: 0.05 * height, width: 0.15 * width, height: 0.2 * height })).toBeLessThan(0.5);

    // The protected master processing queued for version 1, taken only now (a busy queue): it is not drawn over version 2.
    const drawnMaster = redrawn.outputs.protectedMaster;
    await protectClip(deps, { id: protectJobId(id, 1, 'master'), name: 'protect-clip', payload: { submissionId: id, trackVersion: 1, part: 'master' }, attempt: 1, maxAttempts: 5, reportProgress: async () => undefined });
    expect((await load(id)).outputs.protectedMaster).toEqual(drawnMaster);
    expect((await load(id)).protectedRender).toMatchObject({ trackVersion: 2 });

    expect(await approveClip(reviewDeps(), ana, id, allClear, { protectedChecked: true })).toEqual({ kind: 'vote', approvals: 1, needed: 2 });
    expect(await approveClip(reviewDeps(), ben, id, allClear, { protectedChecked: true })).toEqual({ kind: 'approved' });
    const audit = await deps.db.auditEntries.find({ 'target.id': id }).lean();
    expect(audit.filter((a) => a.action === 'approve').map((a) => [a.actor.email, a.details.protectedChecked])).toEqual([['a@union.test', true], ['b@union.test', true]]);
    expect(audit.filter((a) => a.action === 'faces_edited').map((a) => a.details)).toEqual([expect.objectContaining({ version: 2, moderatorBoxes: 1 })]);
  }, 300_000);

  test('when a moderator switches face protection on for a clip whose contributor did not ask, then its faces are found and covered, and it needs two approvals', async () => {
    const fixture = fixtures.find((f) => f.name === 'zoom-sway-60')!;
    const id = await submitFile(app, fixture.path);
    const done = await runWorker(deps, id);
    expect(done.outputs.protectedMaster).toBeUndefined();
    const plainPreview = done.outputs.preview!.key;
    expect((await facesIn(second, await downloadOutput(deps, done, 'preview'))).length).toBeGreaterThan(0);

    await enableFaceProtection(reviewDeps(), moderators[0]!, id);
    const switched = await load(id);
    expect(switched.protection).toMatchObject({ face: true, voice: false, card: false, by: 'moderator' });
    await protectClip(deps, { id: protectJobId(id, 0), name: 'protect-clip', payload: { submissionId: id, trackVersion: 0 }, attempt: 1, maxAttempts: 5, reportProgress: async () => undefined });
    const covered = await load(id);
    expect(covered.outputs.protectedMaster).toBeDefined();
    expect(covered.outputs.preview!.key).not.toBe(plainPreview);
    expect(await facesIn(second, await downloadOutput(deps, covered, 'preview'))).toEqual([]);
    expect((await deps.db.reviewQueue.findById(id).lean())?.sensitive).toBe(true);
    const audit = await deps.db.auditEntries.find({ 'target.id': id, action: 'protection_enabled' }).lean();
    expect(audit).toHaveLength(1);
  }, 300_000);
});

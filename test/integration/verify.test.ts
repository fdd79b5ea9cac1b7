import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { VerifyAnswer } from '../../shared/provenance/verify-answer';
import type { VerifyCheck } from '../../shared/provenance/verify-check';
import { releaseJobId, takedownJobId } from '../../shared/queue/queue';
import { VERIFY_PREFIX, verifyUploadKey } from '../../shared/storage/keys';
import { approve } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import { withdrawSubmission } from '../../server/services/withdrawal.service';
import type { WorkerDeps } from '../../worker/deps';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { takedownSubmission } from '../../worker/handlers/takedown-submission.handler';
import { verifyFile } from '../../worker/handlers/verify-file.handler';
import { sweepVerifyChecks } from '../../worker/retention';
import { sourceClip } from '../helpers/fingerprint-fixtures';
import { multipartBody, post, postMultipart } from '../helpers/multipart';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { downloadOutput, runWorker, submitFile, workerDeps } from '../helpers/worker-env';

const run = promisify(execFile);

interface CheckReply {
  id: string;
  status: string;
  answer: VerifyAnswer | null;
  failure: string | null;
}

/**
 * The public verification, end to end on the real services: files go in through POST /api/verify (and the form),
 * the worker's verify-file job answers (run here in-process), and the answer is read back. The released clips go
 * through the real pipeline: processed, approved, released (signed, fingerprinted, indexed), one of them withdrawn.
 */
describe('the public verification (/verify)', () => {
  let app: TestApp;
  let deps: WorkerDeps;
  let kept: Submission;
  let withdrawn: Submission;
  let dir: string;
  const today = new Date().toISOString().slice(0, 10);

  async function release(source: string): Promise<Submission> {
    const id = await submitFile(app, source);
    await runWorker(deps, id);
    await approve(deps.db.submissions, id, { by: 'moderator' });
    await releaseSubmission(deps, { id: releaseJobId(id), name: 'release-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined });
    const done = (await deps.db.submissions.findById(id).lean<Submission>())!;
    expect(done.status).toBe('released');
    return { ...done, outputs: done.release!.outputs } as Submission;
  }

  /** Sends a file to the API, runs its job as the worker would, and reads the answer. */
  async function check(file: string, filename = 'copy.mp4'): Promise<CheckReply> {
    const sent = await postMultipart(`${app.baseUrl}/api/verify`, {}, [{ field: 'file', filename, content: await readFile(file) }]);
    expect(sent.status).toBe(202);
    const id = sent.json.id as string;
    await verifyFile(deps, { id: `verify-${id}`, name: 'verify-file', payload: { checkId: id }, attempt: 1, maxAttempts: 2, reportProgress: async () => undefined });
    const answer = await fetch(`${app.baseUrl}/api/verify/${id}`);
    expect(answer.status).toBe(200);
    return (await answer.json()) as CheckReply;
  }

  beforeAll(async () => {
    app = await startTestApp({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', RATE_LIMIT_VERIFY: '1000' });
    await seedDemoCampaign(app.deps);
    deps = workerDeps(app);
    dir = await mkdtemp(join(tmpdir(), 'verify-'));
    kept = await release(await sourceClip('A'));
    withdrawn = await release(await sourceClip('B'));
  }, 300_000);

  afterAll(async () => {
    await app.close();
  });

  test('when a social team\'s downloaded 9:16 render is checked, then it is "signed by" the deployment, unchanged, with the campaign and the day; the file is not kept', async () => {
    const reply = await check(await downloadOutput(deps, kept, 'vertical'));
    expect(reply.status).toBe('done');
    expect(reply.answer).toMatchObject({ verdict: 'signed', signer: 'Test Federation of Unions', published: today, photo: false });
    const campaign = (await deps.db.campaigns.findById(kept.campaignId).lean())!;
    expect(reply.answer!.campaign).toBe(campaign.name);
    expect(await deps.storage.list(VERIFY_PREFIX)).toEqual([]);
    // The check records the file's size and type, never its name.
    const stored = (await deps.db.verifyChecks.findById(reply.id).lean<VerifyCheck>())!;
    expect(JSON.stringify(stored)).not.toMatch(/copy\.mp4/);
    // Its poster too (a photo: checked by its signature).
    const poster = await check(await downloadOutput(deps, kept, 'poster-square'), 'poster.jpg');
    expect(poster.answer).toMatchObject({ verdict: 'signed', photo: true });
  });

  test('when a hostile editor re-encodes the release at 360p and cuts 5 s from its middle, then /verify still recognises it and shows the cut (±1 s), picture and sound each', async () => {
    const source = await downloadOutput(deps, kept, 'source');
    const copy = join(dir, 'hostile.mp4');
    await run('ffmpeg', [
      '-v', 'error', '-i', source,
      '-filter_complex', '[0:v]trim=0:8,setpts=PTS-STARTPTS[v1];[0:v]trim=13,setpts=PTS-STARTPTS[v2];[0:a]atrim=0:8,asetpts=PTS-STARTPTS[a1];[0:a]atrim=13,asetpts=PTS-STARTPTS[a2];[v1][a1][v2][a2]concat=n=2:v=1:a=1[v][a];[v]scale=640:360[vs]',
      '-map', '[vs]', '-map', '[a]', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '200k', '-c:a', 'aac', '-b:a', '64k', '-map_metadata', '-1', copy,
    ]);
    const reply = await check(copy);
    expect(reply.answer).toMatchObject({ verdict: 'matches', published: today });
    const match = reply.answer!.match!;
    for (const track of ['picture', 'sound'] as const) {
      const cut = match[track]!.filter((s) => s.kind === 'cut');
      expect({ track, cuts: cut.length }).toEqual({ track, cuts: 1 });
      expect(Math.abs(cut[0]!.from - 8)).toBeLessThanOrEqual(1);
      expect(Math.abs(cut[0]!.to - 13)).toBeLessThanOrEqual(1);
      expect(match[track]!.some((s) => s.kind === 'kept' && s.from <= 1 && s.to >= 7)).toBe(true);
    }
  });

  test('when one byte of the picture of a signed render changes, then it is "signed, but changed after signing"', async () => {
    const bytes = await readFile(await downloadOutput(deps, kept, 'square'));
    const mdat = bytes.indexOf(Buffer.from('mdat'));
    bytes[mdat + 4 + Math.floor((bytes.length - mdat) / 2)]! ^= 0x01;
    const changed = join(dir, 'changed.mp4');
    await writeFile(changed, bytes);
    expect((await check(changed)).answer).toMatchObject({ verdict: 'signed_changed', signer: 'Test Federation of Unions' });
  });

  test('when a clip the campaign never released is checked, then it is "not something this campaign released"', async () => {
    const reply = await check(await sourceClip('D'));
    expect(reply.answer).toMatchObject({ verdict: 'no_match', campaign: null, match: null });
  });

  test('when a release is withdrawn, then its signed render reads as revoked and an unsigned copy of it as not released, and nothing says more', async () => {
    const render = await downloadOutput(deps, withdrawn, 'vertical');
    const copy = join(dir, 'withdrawn-copy.mp4');
    await run('ffmpeg', ['-v', 'error', '-i', render, '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '300k', '-c:a', 'aac', '-map_metadata', '-1', copy]);
    expect((await check(copy)).answer).toMatchObject({ verdict: 'matches' });
    const id = withdrawn._id.toHexString();
    await withdrawSubmission(app.deps, id, { actor: { id: null, email: null }, by: 'contributor' });
    await takedownSubmission(deps, { id: takedownJobId(id), name: 'takedown-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 12, reportProgress: async () => undefined });
    const signed = await check(render);
    expect(signed.answer).toEqual({ verdict: 'signed_revoked', signer: 'Test Federation of Unions', campaign: null, published: null, photo: false, match: null });
    expect((await check(copy)).answer).toMatchObject({ verdict: 'no_match', campaign: null, published: null, match: null });
  });

  test('when the file is not a video or photo, not multipart, missing, or the check unknown, then each gets a clear refusal and nothing is stored', async () => {
    const text = await postMultipart(`${app.baseUrl}/api/verify`, {}, [{ field: 'file', filename: 'notes.txt', content: Buffer.from('just some text, not a video at all') }]);
    expect(text.status).toBe(415);
    expect(text.json.code).toBe('unsupported_file_type');
    const missing = await postMultipart(`${app.baseUrl}/api/verify`, { note: 'x' });
    expect(missing.status).toBe(400);
    expect(missing.json.code).toBe('file_missing');
    const wrongField = await postMultipart(`${app.baseUrl}/api/verify`, {}, [{ field: 'video', filename: 'v.mp4', content: Buffer.from('x') }]);
    expect([wrongField.status, wrongField.json.code]).toEqual([400, 'unexpected_file']);
    const twoFiles = await postMultipart(`${app.baseUrl}/api/verify`, {}, [{ field: 'file', filename: 'a.jpg', content: Buffer.from([0xff, 0xd8, 0xff, 0xe0]) }, { field: 'file', filename: 'b.jpg', content: Buffer.from([0xff, 0xd8, 0xff, 0xe0]) }]);
    expect(twoFiles.status).toBe(400);
    const junk = Buffer.from('--x\r\nnot a part at all');
    const garbage = await post(`${app.baseUrl}/api/verify`, junk, { 'Content-Type': 'multipart/form-data; boundary=x', 'Content-Length': junk.length });
    expect([garbage.status, garbage.json.code]).toEqual([400, 'malformed_multipart']);
    const notMultipart = await post(`${app.baseUrl}/api/verify`, Buffer.from('{}'), { 'Content-Type': 'application/json', 'Content-Length': 2 });
    expect(notMultipart.status).toBe(415);
    expect(await deps.storage.list(VERIFY_PREFIX)).toEqual([]);
    expect((await fetch(`${app.baseUrl}/api/verify/AAAAAAAAAAAAAAAAAAAAAA`)).status).toBe(404);
    expect((await fetch(`${app.baseUrl}/api/verify/..%2F..%2Fetc`)).status).toBe(404);
  });

  test('when a damaged video is sent, then the check fails with a reason the page can say, and its file is gone', async () => {
    const good = await readFile(await sourceClip('C'));
    const broken = join(dir, 'broken.mp4');
    await writeFile(broken, good.subarray(0, 4096));
    const reply = await check(broken);
    expect(reply).toMatchObject({ status: 'failed', answer: null });
    expect(['damaged', 'not_media']).toContain(reply.failure);
    expect(await deps.storage.list(VERIFY_PREFIX)).toEqual([]);
  });

  test('when the form is used, then it answers 303 to the answer page, which reloads itself until the answer is there and then says it in the page\'s language', async () => {
    const { body, contentType } = multipartBody({}, [{ field: 'file', filename: 'v.mp4', content: await readFile(await downloadOutput(deps, kept, 'source')) }]);
    const sent = await fetch(`${app.baseUrl}/verify?lang=be`, { method: 'POST', body: new Uint8Array(body), headers: { 'Content-Type': contentType }, redirect: 'manual' });
    expect(sent.status).toBe(303);
    const location = sent.headers.get('location')!;
    expect(location).toMatch(/^\/verify\/[A-Za-z0-9_-]{22}\?lang=be$/);
    const waiting = await (await fetch(`${app.baseUrl}${location}`)).text();
    expect(waiting).toMatch(/<meta http-equiv="refresh" content="3"/);
    const id = location.slice('/verify/'.length, location.indexOf('?'));
    await verifyFile(deps, { id: `verify-${id}`, name: 'verify-file', payload: { checkId: id }, attempt: 1, maxAttempts: 2, reportProgress: async () => undefined });
    const answered = await (await fetch(`${app.baseUrl}${location}`)).text();
    expect(answered).not.toMatch(/http-equiv="refresh"/);
    expect(answered).toContain('Падпісана: Test Federation of Unions. Без змен.');
    // The form's own refusals are said on the form, in its language.
    const wrong = multipartBody({}, [{ field: 'file', filename: 'x.txt', content: Buffer.from('plain text, not a video') }]);
    const refused = await fetch(`${app.baseUrl}/verify?lang=uk`, { method: 'POST', body: new Uint8Array(wrong.body), headers: { 'Content-Type': wrong.contentType } });
    expect(refused.status).toBe(415);
    expect(await refused.text()).toContain('Цей файл не відео і не фото JPEG.');
    // A release's public page links here: the form names the release while it stands.
    const named = await (await fetch(`${app.baseUrl}/verify?release=${kept._id.toHexString()}&lang=en`)).text();
    expect(named).toContain('data-testid="verify-release"');
    const gone = await (await fetch(`${app.baseUrl}/verify?release=${withdrawn._id.toHexString()}&lang=en`)).text();
    expect(gone).not.toContain('data-testid="verify-release"');
  });

  test('when answers pass their hour, or a file was left by a job that died, then the sweep removes them; a waiting check keeps its file', async () => {
    const expired = await deps.db.verifyChecks.create({ _id: 'e'.repeat(22), status: 'done', bytes: 1, contentType: 'video/mp4', createdAt: new Date(), expiresAt: new Date(Date.now() - 1000), failure: null, answer: null });
    expect((await fetch(`${app.baseUrl}/api/verify/${expired._id}`)).status).toBe(404);
    await deps.storage.upload(verifyUploadKey('o'.repeat(22)), Buffer.from('orphan'), 'video/mp4');
    await deps.db.verifyChecks.create({ _id: 'w'.repeat(22), status: 'waiting', bytes: 1, contentType: 'video/mp4', createdAt: new Date(), expiresAt: new Date(Date.now() + 3_600_000), failure: null, answer: null });
    await deps.storage.upload(verifyUploadKey('w'.repeat(22)), Buffer.from('waiting'), 'video/mp4');
    // Just stored: both files are young, so both stay; the answer past its hour goes.
    const now = await sweepVerifyChecks(deps);
    expect(now).toMatchObject({ files: 0 });
    expect(now.answers).toBeGreaterThanOrEqual(1);
    expect((await sweepVerifyChecks(deps, new Date(Date.now() + 12 * 60_000))).files).toBe(1);
    expect(await deps.storage.list(VERIFY_PREFIX)).toEqual([verifyUploadKey('w'.repeat(22))]);
    expect(await deps.db.verifyChecks.exists({ _id: expired._id })).toBeNull();
    // A check whose job was lost is failed after a quarter of an hour: its page stops waiting.
    await sweepVerifyChecks(deps, new Date(Date.now() + 16 * 60_000));
    expect((await deps.db.verifyChecks.findById('w'.repeat(22)).lean<VerifyCheck>())).toMatchObject({ status: 'failed', failure: 'internal' });
  });
});

describe('the public verification\'s limits', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', RATE_LIMIT_VERIFY: '2', VERIFY_MAX_BYTES: String(1024 * 1024) });
  });

  afterAll(async () => {
    await app.close();
  });

  test('when a file is larger than VERIFY_MAX_BYTES, then it is refused as too large; when one client sends more than RATE_LIMIT_VERIFY, then it waits', async () => {
    const big = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(3 * 1024 * 1024)]);
    const tooLarge = await postMultipart(`${app.baseUrl}/api/verify`, {}, [{ field: 'file', filename: 'big.mp4', content: big }]);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.json.code).toBe('file_too_large');
    const small = await postMultipart(`${app.baseUrl}/api/verify`, {}, [{ field: 'file', filename: 's.mp4', content: Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(2048)]) }]);
    expect(small.status).toBe(202);
    const limited = await postMultipart(`${app.baseUrl}/api/verify`, {}, [{ field: 'file', filename: 's.mp4', content: Buffer.alloc(10) }]);
    expect(limited.status).toBe(429);
    expect(await app.services.storage.list(VERIFY_PREFIX)).toHaveLength(1);
  });
});

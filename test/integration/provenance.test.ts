import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../shared/config';
import { releaseJobId } from '../../shared/queue/queue';
import { approve } from '../../shared/submissions/moderation';
import type { Submission } from '../../shared/submissions/submission.model';
import { IDENTITY_FILES } from '../../shared/provenance/signing-identity';
import { runProvenanceCli } from '../../server/cli/cli';
import type { WorkerDeps } from '../../worker/deps';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { readProvenance } from '../../worker/steps/provenance.step';
import { FIXTURES } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, testEnv, type TestApp } from '../helpers/test-env';
import { downloadOutput, runWorker, submitFile, workerDeps } from '../helpers/worker-env';

const run = promisify(execFile);

interface IndependentCheck {
  manifest: boolean;
  valid?: boolean;
  codes?: string[];
  pinned?: boolean;
  subject?: string;
  labels?: string[];
}

/** The second, independent reader: @trustnxt/c2pa-ts in its own process, with the root pinned. */
async function independentCheck(file: string, rootFile: string): Promise<IndependentCheck> {
  const { stdout } = await run(process.execPath, [join(__dirname, '..', 'helpers', 'c2pa-ts-check.mjs'), file, rootFile], { maxBuffer: 1 << 24 });
  return JSON.parse(stdout) as IndependentCheck;
}

/** The top-level boxes of an MP4, in order. */
async function topBoxes(file: string): Promise<string[]> {
  const bytes = await readFile(file);
  const boxes: string[] = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    let size = bytes.readUInt32BE(at);
    if (size === 1) size = Number(bytes.readBigUInt64BE(at + 8));
    boxes.push(bytes.subarray(at + 4, at + 8).toString('latin1'));
    if (size < 8) break;
    at += size;
  }
  return boxes;
}

/** The contributor's own words and names: none may be in a signed file (its manifest is plain CBOR text). */
const CONTRIBUTOR = { organisation: 'Profsayuz Zhodzina Secret Cell', title: 'Vyzvalim Ihara', message: 'Hello from the night shift at plant 7', contactEmail: 'brave.contributor@example.org' };

describe('signed releases (C2PA)', () => {
  let app: TestApp;
  let deps: WorkerDeps;
  let rootFile: string;
  let released: Submission;

  beforeAll(async () => {
    app = await startTestApp({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
    await seedDemoCampaign(app.deps);
    deps = workerDeps(app);
    rootFile = app.config.provenance.trustAnchorFile!;
    // A clip whose contributor grants every use but credit, with words of their own that must not leave in a manifest.
    const id = await submitFile(app, await FIXTURES.rotated!());
    await deps.db.submissions.updateOne({ _id: id }, { $set: CONTRIBUTOR });
    await runWorker(deps, id);
    await approve(deps.db.submissions, id, { by: 'moderator' });
    await releaseSubmission(deps, { id: releaseJobId(id), name: 'release-submission', payload: { submissionId: id }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined });
    released = (await deps.db.submissions.findById(id).lean<Submission>())!;
    expect(released.status).toBe('released');
  }, 180_000);

  afterAll(async () => {
    await app.close();
  });

  test('when a clip is released, then every render and poster is signed by the deployment, trusted by c2pa-node and valid in c2pa-ts with the root pinned', async () => {
    const names = Object.keys(released.release!.outputs).filter((name) => !name.startsWith('captions-'));
    expect(names.length).toBeGreaterThanOrEqual(6); // three shapes, a poster each
    for (const name of names) {
      const file = await downloadOutput(deps, { ...released, outputs: released.release!.outputs } as Submission, name);
      const reading = await readProvenance(file, deps.signing!.trustAnchorPem);
      expect({ name, kind: reading.kind }).toEqual({ name, kind: 'intact' });
      if (reading.kind !== 'intact') continue;
      expect(reading.trusted).toBe(true);
      expect(reading.signer.organisation).toBe('Test Federation of Unions');
      expect(reading.release).toMatchObject({ campaign: expect.any(String), releaseId: released._id.toHexString(), language: 'be', published: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
      const independent = await independentCheck(file, rootFile);
      expect({ name, valid: independent.valid, pinned: independent.pinned }).toEqual({ name, valid: true, pinned: true });
      expect(independent.subject).toMatch(/O=Test Federation of Unions/);
      expect(independent.labels).toEqual(expect.arrayContaining(['c2pa.actions.v2', 'org.solidarity-clips.release']));
      // The parent is described, never embedded: no thumbnail, no ingredient's own manifest or data.
      expect(independent.labels!.filter((l) => /thumbnail|ingredient/.test(l) && l !== 'c2pa.ingredient.v3')).toEqual([]);
    }
  });

  test('when a file is signed, then its manifest names what was done and nothing of the contributor (no credit granted: not even the organisation)', async () => {
    for (const name of Object.keys(released.release!.outputs).filter((n) => !n.startsWith('captions-'))) {
      const bytes = await readFile(await downloadOutput(deps, { ...released, outputs: released.release!.outputs } as Submission, name));
      for (const text of Object.values(CONTRIBUTOR)) expect({ name, holds: bytes.includes(Buffer.from(text)) ? text : null }).toEqual({ name, holds: null });
      expect(bytes.includes(Buffer.from('c2pa.transcoded'))).toBe(true);
      expect(bytes.includes(Buffer.from('solidarity-clips'))).toBe(true);
    }
  });

  test('when one byte of the picture changes after signing, then both readers say the file changed; another deployment\'s root does not trust it; an unsigned copy has no manifest', async () => {
    const file = await downloadOutput(deps, { ...released, outputs: released.release!.outputs } as Submission, 'vertical');
    const bytes = await readFile(file);
    const mdat = bytes.indexOf(Buffer.from('mdat'));
    expect(mdat).toBeGreaterThan(0);
    const flipped = Buffer.from(bytes);
    flipped[mdat + 4 + Math.floor((bytes.length - mdat) / 2)]! ^= 0x01;
    const changedFile = join(await mkdtemp(join(tmpdir(), 'c2pa-')), 'changed.mp4');
    await writeFile(changedFile, flipped);
    const reading = await readProvenance(changedFile, deps.signing!.trustAnchorPem);
    expect(reading.kind).toBe('changed');
    if (reading.kind === 'changed') expect(reading.codes).toContain('assertion.bmffHash.mismatch');
    const independent = await independentCheck(changedFile, rootFile);
    expect(independent.valid).toBe(false);
    expect(independent.codes).toContain('assertion.bmffHash.mismatch');

    const dir = await mkdtemp(join(tmpdir(), 'other-root-'));
    expect(await runProvenanceCli(['provenance', 'init', dir, 'Not this campaign'], app.config, () => undefined)).toBe(0);
    const elsewhere = await readProvenance(file, await readFile(join(dir, IDENTITY_FILES.rootCert), 'utf8'));
    expect(elsewhere).toMatchObject({ kind: 'intact', trusted: false });
    expect((await independentCheck(file, join(dir, IDENTITY_FILES.rootCert))).pinned).toBe(false);

    const stripped = join(dir, 'stripped.mp4');
    await run('ffmpeg', ['-v', 'error', '-i', file, '-c', 'copy', '-map_metadata', '-1', stripped]);
    expect(await readProvenance(stripped, deps.signing!.trustAnchorPem)).toEqual({ kind: 'none' });
  });

  test('when a render is signed, then it keeps faststart (ftyp, the manifest, moov, then mdat) and every frame decodes', async () => {
    for (const name of ['source', 'square', 'vertical']) {
      const file = await downloadOutput(deps, { ...released, outputs: released.release!.outputs } as Submission, name);
      const boxes = await topBoxes(file);
      expect(boxes[0]).toBe('ftyp');
      expect(boxes.indexOf('uuid')).toBeGreaterThan(0);
      expect(boxes.indexOf('moov')).toBeGreaterThan(boxes.indexOf('uuid'));
      expect(boxes.indexOf('mdat')).toBeGreaterThan(boxes.indexOf('moov'));
      const { stderr } = await run('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']);
      expect(stderr).toBe('');
    }
  });

  test('provenance init makes a chain C2PA accepts with private keys readable by their owner only; init refuses to overwrite; rotate issues a new leaf under the same root', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'provenance-')), 'identity');
    const lines: string[] = [];
    expect(await runProvenanceCli(['provenance', 'init', dir, 'Global Union of Testers', 'ch'], app.config, (l) => lines.push(l))).toBe(0);
    expect(lines.join('\n')).toMatch(/signer "Global Union of Testers"/);
    expect((await readdir(dir)).sort()).toEqual(Object.values(IDENTITY_FILES).sort());
    for (const key of [IDENTITY_FILES.key, IDENTITY_FILES.rootKey, IDENTITY_FILES.intermediateKey]) expect((await stat(join(dir, key))).mode & 0o777).toBe(0o600);
    await expect(runProvenanceCli(['provenance', 'init', dir, 'Again'], app.config, () => undefined)).rejects.toThrow(/already holds a signing identity/);

    const rotatedLines: string[] = [];
    expect(await runProvenanceCli(['provenance', 'rotate', dir, 'Global Union of Testers', 'CH'], app.config, (l) => rotatedLines.push(l))).toBe(0);
    const [, chainFile, keyFile] = /C2PA_SIGNING_CHAIN_FILE=(\S+) C2PA_SIGNING_KEY_FILE=(\S+)/.exec(rotatedLines.join('\n'))!;
    const config = loadConfig(testEnv({ C2PA_SIGNING_CHAIN_FILE: chainFile!, C2PA_SIGNING_KEY_FILE: keyFile!, C2PA_TRUST_ANCHOR_FILE: join(dir, IDENTITY_FILES.rootCert) }));
    const checked: string[] = [];
    expect(await runProvenanceCli(['provenance', 'check'], config, (l) => checked.push(l))).toBe(0);
    expect(checked.join('\n')).toMatch(/signing files load: signer "Global Union of Testers"/);
    // The rotated leaf signs files the same root trusts.
    const file = join(dir, 'poster.jpg');
    await copyFile(await downloadOutput(deps, { ...released, outputs: released.release!.outputs } as Submission, 'poster-square'), file);
    const { signFile } = await import('../../worker/steps/provenance.step');
    const { releaseManifest } = await import('../../shared/provenance/release-manifest');
    await signFile(file, releaseManifest({ campaign: 'c', releaseId: 'r', fileName: 'poster.jpg', kind: 'poster', captionLanguage: null, language: 'en', published: '2026-12-07', shape: 'square', watermark: false, endCard: false, faceMasking: false, voiceDisguised: false, pictureReplaced: false, creditedOrganisation: null }), { chainPem: await readFile(chainFile!, 'utf8'), keyPem: await readFile(keyFile!, 'utf8') });
    expect(await readProvenance(file, await readFile(join(dir, IDENTITY_FILES.rootCert), 'utf8'))).toMatchObject({ kind: 'intact', trusted: true });
  });

  test('when an imported chain or key is wrong (a self-signed leaf, a key of another chain, a chain of another root, files missing), then import and check refuse it and say why', async () => {
    const base = await mkdtemp(join(tmpdir(), 'import-'));
    const a = join(base, 'a');
    const b = join(base, 'b');
    await runProvenanceCli(['provenance', 'init', a, 'A'], app.config, () => undefined);
    await runProvenanceCli(['provenance', 'init', b, 'B'], app.config, () => undefined);
    const cli = (args: string[]) => runProvenanceCli(['provenance', ...args], app.config, () => undefined);
    // The root alone (self-signed, a CA): not a signing chain.
    await expect(cli(['import', join(base, 'x1'), join(a, IDENTITY_FILES.rootCert), join(a, IDENTITY_FILES.key), join(a, IDENTITY_FILES.rootCert)])).rejects.toThrow(/at least two certificates/);
    await expect(cli(['import', join(base, 'x2'), join(a, IDENTITY_FILES.chain), join(b, IDENTITY_FILES.key), join(a, IDENTITY_FILES.rootCert)])).rejects.toThrow(/does not belong to the first certificate/);
    await expect(cli(['import', join(base, 'x3'), join(a, IDENTITY_FILES.chain), join(a, IDENTITY_FILES.key), join(b, IDENTITY_FILES.rootCert)])).rejects.toThrow(/does not lead to the given root/);
    await expect(cli(['import', join(base, 'x4'), join(a, IDENTITY_FILES.intermediateCert), join(a, IDENTITY_FILES.intermediateKey), join(a, IDENTITY_FILES.rootCert)])).rejects.toThrow(/at least two certificates/);
    expect(await cli(['import', join(base, 'ok'), join(a, IDENTITY_FILES.chain), join(a, IDENTITY_FILES.key), join(a, IDENTITY_FILES.rootCert)])).toBe(0);
    const config = loadConfig(testEnv());
    await expect(runProvenanceCli(['provenance', 'check'], { ...config, provenance: { ...config.provenance, keyFile: null } }, () => undefined)).rejects.toThrow(/C2PA_SIGNING_KEY_FILE is not set/);
  });
});

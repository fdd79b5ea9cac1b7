import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { Types } from 'mongoose';
import { runCli } from '../../server/cli/cli';
import { blobPath, type BackupManifest } from '../../server/services/backup.service';
import { approveClip, CHECKLIST, type Checklist, type Moderator } from '../../server/services/review.service';
import { sealTotpSecret } from '../../server/services/totp-secrets';
import { releaseJobId, type QueueJob } from '../../shared/queue/queue';
import type { Submission } from '../../shared/submissions/submission.model';
import { releaseSubmission } from '../../worker/handlers/release-submission.handler';
import { FIXTURES } from '../helpers/fixtures';
import { clipInReview } from '../helpers/review-fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { runWorker, submitFile, workerDeps } from '../helpers/worker-env';

const KEYS = { AUDIT_HMAC_KEY: 'the audit key of the backed-up federation, 32+ chars', TOTP_ENCRYPTION_KEY: 'ab'.repeat(32) };
const SRT = Buffer.from('1\n00:00:00,200 --> 00:00:02,000\nSolidarity!\n');
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const allClear = Object.fromEntries(CHECKLIST.map((item) => [item, 'clear'])) as Checklist;

function releaseJob(submissionId: string): QueueJob<'release-submission'> {
  return { id: releaseJobId(submissionId), name: 'release-submission', payload: { submissionId }, attempt: 1, maxAttempts: 6, reportProgress: async () => undefined };
}

async function cli(app: TestApp, ...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runCli(args, app.services, (line) => lines.push(line), { config: app.config, askSecret: async () => 'a long enough password for the admin' });
  return { code, out: lines.join('\n') };
}

async function documentCounts(app: TestApp): Promise<Record<string, number>> {
  const db = app.services.db.connection.db!;
  const counts: Record<string, number> = {};
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) counts[name] = await db.collection(name).countDocuments({});
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0).sort());
}

async function bucketKeys(app: TestApp): Promise<string[]> {
  return (await app.services.storage.list('')).sort();
}

/**
 * The drill: real released clips (the real worker and ffmpeg), audited decisions, a backup, a restore into a
 * new database and bucket on the same FerretDB and MinIO; then the clips, the counts and the audit log.
 */
describe('backup and restore', () => {
  let source: TestApp;
  const targets: TestApp[] = [];
  let dir: string;
  let released: string[];
  /** Every object of a released clip (its outputs and release renders) and its SHA-256, read from the source bucket. */
  const objects = new Map<string, string>();
  let counts: Record<string, number>;
  let manifestSha256: string;
  const folders: string[] = [];

  async function folder(prefix: string): Promise<string> {
    const made = await mkdtemp(join(tmpdir(), prefix));
    folders.push(made);
    return made;
  }

  async function target(overrides: Record<string, string> = {}): Promise<TestApp> {
    const app = await startTestApp({ ...KEYS, ...overrides });
    targets.push(app);
    return app;
  }

  async function copyOfBackup(): Promise<string> {
    const copy = await folder('solidarity-backup-copy-');
    await cp(dir, copy, { recursive: true });
    return copy;
  }

  beforeAll(async () => {
    source = await startTestApp(KEYS);
    await seedDemoCampaign(source.deps);
    const deps = workerDeps(source);
    expect((await cli(source, 'staff', 'create-admin', 'admin@union.test')).code).toBe(0);
    // An enrolled second factor, sealed with the key (a restore must come with the same key).
    const admin = (await source.services.db.staffUsers.findOne({ email: 'admin@union.test' }).lean())!;
    await source.services.db.staffUsers.updateOne({ _id: admin._id }, { $set: { 'totp.secret': sealTotpSecret(source.config.keys.totp, 'JBSWY3DPEHPK3PXP', admin._id.toHexString()) } });
    const moderator: Moderator = { id: new Types.ObjectId().toHexString(), email: 'moderator@union.test', role: 'moderator', campaigns: [] };
    released = [];
    for (const [fixture, subtitles] of [['noAudio', undefined], ['rotated', SRT]] as const) {
      const done = await runWorker(deps, await submitFile(source, await FIXTURES[fixture]!(), { language: 'be', ...(subtitles ? { subtitles } : {}) }));
      expect(done.status).toBe('in_review');
      const id = done._id.toHexString();
      expect(await approveClip({ db: deps.db, now: () => new Date(), claimSeconds: 900, queue: deps.queue }, moderator, id, allClear)).toEqual({ kind: 'approved' });
      await releaseSubmission(deps, releaseJob(id));
      released.push(id);
    }
    await clipInReview(source); // one not released: restored as it is
    await source.services.storage.upload('campaigns/an-empty-object', Buffer.alloc(0), 'application/octet-stream'); // every object, even an empty one
    for (const id of released) {
      const clip = (await source.services.db.submissions.findById(id).lean<Submission>())!;
      expect(clip.status).toBe('released');
      for (const object of [...Object.values(clip.outputs), ...Object.values(clip.release!.outputs)]) {
        const bytes = await buffer(await source.services.storage.download(object.key));
        expect(sha(bytes)).toBe(object.sha256);
        objects.set(object.key, object.sha256);
      }
    }
    counts = await documentCounts(source);
    expect(counts.audit_entries).toBeGreaterThanOrEqual(3); // admin created, two approvals

    dir = join(await folder('solidarity-backup-'), 'backup');
    const { code, out } = await cli(source, 'backup', '--out', dir, '--objects', 'copy');
    expect(code).toBe(0);
    manifestSha256 = /manifest SHA-256 ([0-9a-f]{64})/.exec(out)![1]!;
    // The export is audited, after the dump (so in the next backup).
    expect((await source.services.db.auditEntries.findById(counts.audit_entries! + 1).lean())!).toMatchObject({ action: 'backup_made', details: { manifestSha256, objects: 'copy' } });
  }, 240_000);

  afterAll(async () => {
    for (const app of targets) await app.close();
    await source?.close();
    for (const made of folders) await rm(made, { recursive: true, force: true });
  });

  test('when a backup is made, then its manifest lists every collection with its count and checksum, and every object once by content', async () => {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as BackupManifest;
    expect(manifest).toMatchObject({ format: 'solidarity-clips-backup', formatVersion: 1, app: { name: 'solidarity-clips' }, objects: { mode: 'copy' } });
    expect(Object.fromEntries(manifest.collections.filter((c) => c.documents > 0).map((c) => [c.name, c.documents]).sort())).toEqual(counts);
    for (const collection of manifest.collections) expect(sha(await readFile(join(dir, collection.file)))).toBe(collection.sha256);
    expect(manifest.objects.count).toBe((await bucketKeys(source)).length);
    for (const [, sha256] of objects) expect(sha(await readFile(blobPath(dir, sha256)))).toBe(sha256);
    // One file per distinct content (the test clips share bytes between outputs: fewer files than objects).
    const listed = (await readFile(join(dir, 'objects.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { sha256: string });
    const stored = (await readdir(join(dir, 'objects', 'sha256'), { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
    expect(stored.length).toBe(new Set(listed.map((o) => o.sha256)).size);
    expect(stored.length).toBeLessThan(listed.length);
    // Types survive: an ObjectId and a Date in canonical Extended JSON.
    expect(await readFile(join(dir, 'db', 'submissions.jsonl'), 'utf8')).toMatch(/"_id":\{"\$oid":"[0-9a-f]{24}"\}.*"createdAt":\{"\$date":/);
    // The keys of the configuration are never in it.
    for (const file of [...manifest.collections.map((c) => c.file), 'objects.jsonl', 'manifest.json']) {
      const text = await readFile(join(dir, file), 'utf8');
      expect(text).not.toContain(KEYS.AUDIT_HMAC_KEY);
      expect(text).not.toContain(KEYS.TOTP_ENCRYPTION_KEY);
    }
  });

  test('when it is restored into an empty database and bucket, then every released clip downloads with its SHA-256, the counts match and audit verify passes', async () => {
    const empty = await target();
    const { code, out } = await cli(empty, 'restore', '--from', dir);
    expect(out).toMatch(/restore complete/);
    expect(code).toBe(0);
    expect(out).toMatch(/audit log intact: \d+ entries, signatures checked/);
    expect(out).toMatch(/staff second factors: all 1 open/);
    // Every document, and one audit entry more: the restore's own, after the restored chain.
    expect(await documentCounts(empty)).toEqual({ ...counts, audit_entries: counts.audit_entries! + 1 });
    const last = (await empty.services.db.auditEntries.findById(counts.audit_entries! + 1).lean())!;
    expect(last).toMatchObject({ action: 'backup_restored', actor: { email: 'command line' }, details: { manifestSha256: manifestSha256 } });
    expect(await bucketKeys(empty)).toEqual(await bucketKeys(source));
    for (const id of released) {
      const clip = (await empty.services.db.submissions.findById(id).lean<Submission>())!;
      expect(clip.status).toBe('released');
      expect(clip.createdAt).toBeInstanceOf(Date);
      for (const object of [...Object.values(clip.outputs), ...Object.values(clip.release!.outputs)]) {
        expect(sha(await buffer(await empty.services.storage.download(object.key)))).toBe(objects.get(object.key));
      }
    }
    expect([...objects.keys()].every((key) => key.includes(released[0]!) || key.includes(released[1]!))).toBe(true);
    expect(await cli(empty, 'audit', 'verify')).toEqual({ code: 0, out: expect.stringMatching(/audit log intact/) });

    // Again into the same (now full) database and bucket: refused, nothing changed.
    const full = await documentCounts(empty);
    await expect(cli(empty, 'restore', '--from', dir)).rejects.toThrow(/not empty.*nothing was restored/);
    expect(await documentCounts(empty)).toEqual(full);
  }, 120_000);

  test('when a byte of a dump file is flipped, then the restore is refused naming the file, and nothing is restored', async () => {
    const copy = await copyOfBackup();
    const file = join(copy, 'db', 'submissions.jsonl');
    const bytes = await readFile(file);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0x01;
    await writeFile(file, bytes);
    const empty = await target();
    await expect(cli(empty, 'restore', '--from', copy)).rejects.toThrow(/damaged, nothing was restored:\n {2}db\/submissions\.jsonl: SHA-256 does not match/);
    expect(await documentCounts(empty)).toEqual({});
    expect(await bucketKeys(empty)).toEqual([]);
  });

  test('when a copied object is changed or a dump cut short, then the restore is refused and nothing is restored', async () => {
    const copy = await copyOfBackup();
    const blob = blobPath(copy, objects.get([...objects.keys()][0]!)!);
    const bytes = await readFile(blob);
    bytes[100] = bytes[100]! ^ 0xff;
    await writeFile(blob, bytes);
    const audit = join(copy, 'db', 'audit_entries.jsonl');
    await writeFile(audit, (await readFile(audit)).subarray(0, 50));
    const empty = await target();
    await expect(cli(empty, 'restore', '--from', copy)).rejects.toThrow(/audit_entries\.jsonl: 50 bytes, the manifest says \d+ \(truncated or changed\)/);
    await writeFile(audit, await readFile(join(dir, 'db', 'audit_entries.jsonl')));
    await expect(cli(empty, 'restore', '--from', copy)).rejects.toThrow(/the copy of \S+ does not match its SHA-256/);
    expect(await documentCounts(empty)).toEqual({});
    expect(await bucketKeys(empty)).toEqual([]);
  });

  test('when a dry run is asked for, then the backup and the target are checked and nothing is written', async () => {
    const empty = await target();
    const { code, out } = await cli(empty, 'restore', '--from', dir, '--dry-run');
    expect([code, out]).toEqual([0, expect.stringMatching(/dry run: the backup is intact and the target is ready .*nothing was written/)]);
    expect(await documentCounts(empty)).toEqual({});
    expect(await bucketKeys(empty)).toEqual([]);
  });

  test('when a restore fails after it began writing, then it says INCOMPLETE and names what to drop', async () => {
    // A backup whose manifest was rewritten to match (checksums pass) but which holds one campaign twice.
    const copy = await copyOfBackup();
    const file = join(copy, 'db', 'campaigns.jsonl');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text + text);
    const manifest = JSON.parse(await readFile(join(copy, 'manifest.json'), 'utf8')) as BackupManifest;
    const campaigns = manifest.collections.find((c) => c.name === 'campaigns')!;
    Object.assign(campaigns, { documents: campaigns.documents * 2, bytes: Buffer.byteLength(text) * 2, sha256: sha(Buffer.from(text + text)) });
    await writeFile(join(copy, 'manifest.json'), JSON.stringify(manifest));
    const empty = await target();
    await expect(cli(empty, 'restore', '--from', copy)).rejects.toThrow(
      new RegExp(`restore INCOMPLETE: .*duplicate key[^]*The database "${empty.services.db.connection.name}" and the bucket "${empty.config.s3.bucket}" now hold part of the backup`, 'i'),
    );
  });

  test('when the folder is missing, not a backup, or of another format version, then it says so', async () => {
    const empty = await target();
    await expect(cli(empty, 'restore', '--from', join(dir, 'nowhere'))).rejects.toThrow(/is not a folder/);
    await expect(cli(empty, 'restore', '--from', tmpdir())).rejects.toThrow(/no manifest\.json: not a backup, or a backup that did not finish/);
    const copy = await copyOfBackup();
    const manifest = JSON.parse(await readFile(join(copy, 'manifest.json'), 'utf8')) as BackupManifest;
    await writeFile(join(copy, 'manifest.json'), JSON.stringify({ ...manifest, formatVersion: 2 }));
    await expect(cli(empty, 'restore', '--from', copy)).rejects.toThrow(/format version 2: this version of the application reads version 1 only/);
    // And a backup is never written into a folder that holds anything.
    await expect(cli(source, 'backup', '--out', copy)).rejects.toThrow(/is not empty/);
    expect(await documentCounts(empty)).toEqual({});
  });

  test('when a restore runs with another audit key, then it restores but says the audit log does not verify, and exits 1', async () => {
    const other = await target({ AUDIT_HMAC_KEY: 'a different key, not the one the backup was made with' });
    const { code, out } = await cli(other, 'restore', '--from', dir);
    expect(code).toBe(1);
    expect(out).toMatch(/PROBLEM: audit log BROKEN at entry 1: its signature does not match.*is AUDIT_HMAC_KEY the one/);
    expect(out).toMatch(/restore finished WITH PROBLEMS/);
    // Nothing is appended to a log that does not verify.
    expect(await documentCounts(other)).toEqual(counts);
  }, 60_000);

  test('when a backup lists its objects only, then a restore checks the replica bucket holds each with its SHA-256, and refuses a bucket that lacks them', async () => {
    const listed = join(await folder('solidarity-backup-'), 'listed');
    expect((await cli(source, 'backup', '--out', listed, '--objects', 'list')).code).toBe(0);
    expect(await readdir(listed)).toEqual(expect.not.arrayContaining(['objects']));
    // A bucket without the objects: refused before the database is touched.
    const bare = await target();
    await expect(cli(bare, 'restore', '--from', listed)).rejects.toThrow(/does not hold them all, nothing was restored:\n {2}\S+: missing from the bucket/);
    expect(await documentCounts(bare)).toEqual({});
    // The replica (here: the source's own bucket) with a new, empty database.
    const replica = await target({ S3_BUCKET: source.config.s3.bucket });
    const { code, out } = await cli(replica, 'restore', '--from', listed);
    expect(out).toMatch(/objects: \d+ checked in/);
    expect(code).toBe(0);
    const manifest = JSON.parse(await readFile(join(listed, 'manifest.json'), 'utf8')) as BackupManifest;
    expect(manifest.objects).toMatchObject({ mode: 'list', count: (await bucketKeys(source)).length });
    const restored = await documentCounts(replica);
    expect(restored.audit_entries).toBe(manifest.collections.find((c) => c.name === 'audit_entries')!.documents + 1);
    expect(restored.submissions).toBe(counts.submissions);
    expect(await cli(replica, 'audit', 'verify')).toMatchObject({ code: 0 });
  }, 60_000);
});

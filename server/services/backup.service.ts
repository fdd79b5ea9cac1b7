import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform, Writable, type Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { mongo } from 'mongoose';
import { z } from 'zod';
import packageJson from '../../package.json';
import type { Database } from '../../shared/db';
import type { StaffUser } from '../../shared/models/staff-user.model';
import type { ObjectStorage } from '../../shared/storage/object-storage';
import { appendAudit, verifyAudit, type AuditEvent } from './audit.service';
import { isSealed, openTotpSecret } from './totp-secrets';

/**
 * Backup and restore of everything the application keeps: every collection of the database, dumped as
 * canonical Extended JSON lines (ObjectId, Date, Int32/Double/Long, Binary keep their types), and every
 * object of the bucket, listed with its size and SHA-256 and — with `objects: 'copy'` — copied into the
 * backup, content-addressed (`objects/sha256/ab/<sha256>`: the same bytes are stored once). A manifest
 * records the SHA-256 of every file; `restore` checks all of it before it writes anything.
 *
 * A backup holds no secret beyond what the database holds (staff password hashes, TOTP secrets sealed with
 * TOTP_ENCRYPTION_KEY, webhook signing secrets, contributors' contact addresses): the keys from the
 * configuration (AUDIT_HMAC_KEY, TOTP_ENCRYPTION_KEY), S3 credentials and the like are never written.
 * Redis (the queue, sessions, counters) is not backed up: the reconciler rebuilds the queue from the database.
 *
 * The database is read while the application may run, without a snapshot (FerretDB has none): stop the
 * server and the workers for a backup that is exact; `audit_head` is dumped before `audit_entries`, so an
 * entry appended meanwhile cannot leave the head ahead of the dumped chain.
 */

export const BACKUP_FORMAT = 'solidarity-clips-backup';
export const BACKUP_FORMAT_VERSION = 1;
export const MANIFEST = 'manifest.json';
const OBJECT_LIST = 'objects.jsonl';
const BATCH = 500;
const OBJECTS_IN_FLIGHT = 4;

export type ObjectsMode = 'copy' | 'list';

const EJSON = mongo.BSON.EJSON;
const SHA256 = /^[0-9a-f]{64}$/;
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

const fileSchema = z.object({
  file: z.string().regex(/^(db\/)?[A-Za-z0-9_-][A-Za-z0-9_.-]*$/, 'a file of the backup folder'),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(SHA256),
});

const manifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  formatVersion: z.literal(BACKUP_FORMAT_VERSION),
  app: z.object({ name: z.string(), version: z.string() }),
  startedAt: z.string(),
  finishedAt: z.string(),
  source: z.object({ database: z.string(), bucket: z.string() }),
  collections: z.array(
    fileSchema.extend({
      name: z.string().regex(NAME),
      documents: z.number().int().nonnegative(),
      indexes: z.array(z.object({ name: z.string(), key: z.record(z.string(), z.union([z.number(), z.string()])), unique: z.boolean().optional(), sparse: z.boolean().optional() })),
    }),
  ),
  objects: fileSchema.extend({ mode: z.enum(['copy', 'list']), count: z.number().int().nonnegative(), bytes: z.number().int().nonnegative(), totalBytes: z.number().int().nonnegative() }),
});

export type BackupManifest = z.infer<typeof manifestSchema>;

const objectLineSchema = z.object({ key: z.string().min(1), size: z.number().int().nonnegative(), sha256: z.string().regex(SHA256), contentType: z.string() });
type ObjectLine = z.infer<typeof objectLineSchema>;

export interface BackupDeps {
  db: Database;
  storage: ObjectStorage;
}

/** Refused before anything was written (a bad backup, a target that is not empty): nothing changed. */
export class BackupRefused extends Error {}

export interface BackupResult {
  manifest: BackupManifest;
  /** The manifest file's own SHA-256: keep it apart from the backup to tell later that the manifest is the one written. */
  manifestSha256: string;
  /** Distinct contents copied (`copy`), fewer than objects when some have the same bytes. */
  blobs: number;
}

export function blobPath(dir: string, sha256: string): string {
  return join(dir, 'objects', 'sha256', sha256.slice(0, 2), sha256);
}

/** The collections in dump order: `audit_head` before `audit_entries` (see above); the rest by name. */
async function collectionNames(db: Database): Promise<string[]> {
  const names = (await db.connection.db!.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((name) => !name.startsWith('system.'));
  return names.sort((a, b) => (a === 'audit_head' ? -1 : b === 'audit_head' ? 1 : a.localeCompare(b)));
}

/** A file written line by line, its SHA-256 and size counted as it is written; waits when the disk is behind. */
function hashedWriter(path: string) {
  const out = createWriteStream(path, { flags: 'wx' });
  const hash = createHash('sha256');
  let bytes = 0;
  return {
    async write(text: string) {
      const chunk = Buffer.from(text, 'utf8');
      hash.update(chunk);
      bytes += chunk.length;
      if (!out.write(chunk)) await once(out, 'drain');
    },
    async close(): Promise<{ bytes: number; sha256: string }> {
      out.end();
      await finished(out);
      return { bytes, sha256: hash.digest('hex') };
    },
  };
}

/** Counts and hashes what flows through. */
function meter() {
  const hash = createHash('sha256');
  let bytes = 0;
  let lines = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines += 1;
      callback(null, chunk);
    },
  });
  return { stream, result: () => ({ bytes, lines, sha256: hash.digest('hex') }) };
}

const discard = () => new Writable({ write: (_chunk, _encoding, callback) => callback() });

async function hashStream(body: Readable, into: Writable = discard()): Promise<{ bytes: number; lines: number; sha256: string }> {
  const m = meter();
  await pipeline(body, m.stream, into);
  return m.result();
}

/** Runs `work` on each item, `limit` at a time; the first failure is thrown once every started item has ended. */
async function forEachLimited<T>(items: AsyncIterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  for await (const item of items) {
    if (failure) break;
    const task: Promise<void> = work(item).then(
      () => void running.delete(task),
      (error: unknown) => {
        running.delete(task);
        failure ??= { error };
      },
    );
    running.add(task);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure) throw (failure as { error: unknown }).error;
}

async function* linesOf(path: string): AsyncIterable<string> {
  const reader = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of reader) if (line !== '') yield line;
}

async function* objectLines(dir: string): AsyncIterable<ObjectLine> {
  let n = 0;
  for await (const line of linesOf(join(dir, OBJECT_LIST))) {
    n += 1;
    const parsed = objectLineSchema.safeParse(JSON.parse(line));
    if (!parsed.success) throw new BackupRefused(`${OBJECT_LIST} line ${n} is not an object entry`);
    yield parsed.data;
  }
}

/** A folder for a new backup: made when missing; one that holds anything is refused (no mixing of two backups). */
async function emptyFolder(dir: string): Promise<void> {
  // Only its owner may read it: a backup holds what the database holds, contributors' contact addresses included.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const entries = await readdir(dir);
  if (entries.length > 0) throw new BackupRefused(`${dir} is not empty (${entries.length} entries): give a new folder for each backup`);
}

/**
 * Writes a backup into `out` (made when missing, refused when it holds anything). A full export of personal data
 * is audited (`backup_made`, as an original's download is), once the backup is complete: that entry is in the next backup.
 */
export async function backup(deps: BackupDeps, options: { out: string; objects: ObjectsMode; actor: AuditEvent['actor']; log?: (line: string) => void; now?: () => Date }): Promise<BackupResult> {
  const log = options.log ?? (() => undefined);
  const now = options.now ?? (() => new Date());
  const dir = options.out;
  await emptyFolder(dir);
  let result: BackupResult;
  try {
    result = await writeBackup(deps, { ...options, log, now });
  } catch (error) {
    throw new Error(`backup FAILED, ${dir} holds an unfinished backup (no ${MANIFEST}): remove it. ${(error as Error).message}`, { cause: error });
  }
  const { manifest, manifestSha256 } = result;
  const details = { manifestSha256, objects: options.objects, collections: manifest.collections.length, documents: manifest.collections.reduce((n, c) => n + c.documents, 0), objectCount: manifest.objects.count };
  await appendAudit(deps.db, { actor: options.actor, action: 'backup_made', details }, now());
  return result;
}

async function writeBackup(deps: BackupDeps, options: { out: string; objects: ObjectsMode; log: (line: string) => void; now: () => Date }): Promise<BackupResult> {
  const { db, storage } = deps;
  const { log, now } = options;
  const dir = options.out;
  const startedAt = now().toISOString();
  await mkdir(join(dir, 'db'));

  const collections: BackupManifest['collections'] = [];
  for (const name of await collectionNames(db)) {
    if (!NAME.test(name)) throw new Error(`collection "${name}" has a name this backup format cannot store`);
    const collection = db.connection.db!.collection(name);
    const indexes = (await collection.indexes()).map((index) => ({
      name: String(index.name),
      key: index.key as Record<string, number | string>,
      ...(index.unique ? { unique: true } : {}),
      ...(index.sparse ? { sparse: true } : {}),
    }));
    const file = `db/${name}.jsonl`;
    const writer = hashedWriter(join(dir, file));
    let documents = 0;
    // A cursor, read a batch at a time: a large collection never sits in memory.
    for await (const doc of collection.find({}, { batchSize: BATCH })) {
      await writer.write(`${EJSON.stringify(doc, { relaxed: false })}\n`);
      documents += 1;
    }
    collections.push({ name, file, documents, indexes, ...(await writer.close()) });
    log(`${name}: ${documents} documents`);
  }

  const list = hashedWriter(join(dir, OBJECT_LIST));
  let count = 0;
  let totalBytes = 0;
  let blobs = 0;
  if (options.objects === 'copy') await mkdir(join(dir, 'objects', 'tmp'), { recursive: true });
  let gone = 0;
  await forEachLimited(storage.listObjects(''), OBJECTS_IN_FLIGHT, async ({ key }) => {
    const read = await storage.read(key).catch((error: { name?: string }) => {
      if (error.name === 'NoSuchKey' || error.name === 'NotFound') return null;
      throw error;
    });
    // Deleted between the listing and the read (a withdrawal, the retention job): it is not in the backup.
    if (!read) {
      gone += 1;
      return;
    }
    let sha256: string;
    let bytes: number;
    if (options.objects === 'copy') {
      const tmp = join(dir, 'objects', 'tmp', randomBytes(8).toString('hex'));
      ({ sha256, bytes } = await hashStream(read.body, createWriteStream(tmp, { flags: 'wx' })));
      const path = blobPath(dir, sha256);
      // Asked of the disk, not of a set in memory (a bucket may hold millions). Two equal contents at once both
      // rename: the same bytes, so either wins.
      if (await stat(path).then(() => true, () => false)) await rm(tmp);
      else {
        blobs += 1;
        await mkdir(dirname(path), { recursive: true });
        await rename(tmp, path);
      }
    } else {
      ({ sha256, bytes } = await hashStream(read.body));
    }
    await list.write(`${JSON.stringify({ key, size: bytes, sha256, contentType: read.contentType ?? 'application/octet-stream' })}\n`);
    count += 1;
    totalBytes += bytes;
    if (count % 500 === 0) log(`objects: ${count} so far`);
  });
  if (options.objects === 'copy') await rm(join(dir, 'objects', 'tmp'), { recursive: true });
  const objects = { file: OBJECT_LIST, mode: options.objects, count, totalBytes, ...(await list.close()) };
  log(`objects: ${count} (${totalBytes} bytes)${options.objects === 'copy' ? `, ${blobs} distinct contents copied` : ', listed (not copied)'}${gone > 0 ? `; ${gone} deleted while the backup ran, left out` : ''}`);

  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    formatVersion: BACKUP_FORMAT_VERSION,
    app: { name: packageJson.name, version: packageJson.version },
    startedAt,
    finishedAt: now().toISOString(),
    source: { database: db.connection.name, bucket: storage.bucket },
    collections,
    objects,
  };
  // Written last, under its final name only when complete: a folder without a manifest is an interrupted backup.
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  const writer = hashedWriter(join(dir, `${MANIFEST}.tmp`));
  await writer.write(text);
  const { sha256: manifestSha256 } = await writer.close();
  await rename(join(dir, `${MANIFEST}.tmp`), join(dir, MANIFEST));
  return { manifest, manifestSha256, blobs };
}

/** Reads and checks the manifest's shape and version; says what is wrong in words an operator can act on. */
export async function readManifest(dir: string): Promise<{ manifest: BackupManifest; sha256: string }> {
  const exists = await stat(dir).catch(() => null);
  if (!exists?.isDirectory()) throw new BackupRefused(`${dir} is not a folder`);
  const text = await readFile(join(dir, MANIFEST), 'utf8').catch(() => null);
  if (text === null) throw new BackupRefused(`${dir} has no ${MANIFEST}: not a backup, or a backup that did not finish`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BackupRefused(`${MANIFEST} is not JSON (damaged)`);
  }
  const head = json as { format?: unknown; formatVersion?: unknown };
  if (head?.format !== BACKUP_FORMAT) throw new BackupRefused(`${MANIFEST} is not a ${BACKUP_FORMAT} manifest`);
  if (head.formatVersion !== BACKUP_FORMAT_VERSION) {
    throw new BackupRefused(`backup format version ${String(head.formatVersion)}: this version of the application reads version ${BACKUP_FORMAT_VERSION} only`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) throw new BackupRefused(`${MANIFEST} is damaged: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { manifest: parsed.data, sha256: createHash('sha256').update(text).digest('hex') };
}

/** Every file of the backup against the manifest, and in `copy` mode every copied object against the list. Returns the problems found. */
export async function checkBackup(dir: string, manifest: BackupManifest): Promise<string[]> {
  const problems: string[] = [];
  const files = [...manifest.collections.map((c) => ({ ...c, lines: c.documents })), { ...manifest.objects, lines: manifest.objects.count }];
  for (const file of files) {
    const found = await hashStream(createReadStream(join(dir, file.file))).then(
      (result) => result,
      () => null,
    );
    if (!found) problems.push(`${file.file}: missing`);
    else if (found.bytes !== file.bytes) problems.push(`${file.file}: ${found.bytes} bytes, the manifest says ${file.bytes} (truncated or changed)`);
    else if (found.sha256 !== file.sha256) problems.push(`${file.file}: SHA-256 does not match the manifest (changed)`);
    else if (found.lines !== file.lines) problems.push(`${file.file}: ${found.lines} lines, the manifest counts ${file.lines}`);
  }
  if (problems.length > 0 || manifest.objects.mode !== 'copy') return problems;
  // Each line's copy is read, even a content shared with an earlier line: no set of every hash in memory.
  await forEachLimited(objectLines(dir), OBJECTS_IN_FLIGHT, async (object) => {
    const found = await hashStream(createReadStream(blobPath(dir, object.sha256))).catch(() => null);
    if (!found) problems.push(`the copy of ${object.key} is missing`);
    else if (found.sha256 !== object.sha256 || found.bytes !== object.size) problems.push(`the copy of ${object.key} does not match its SHA-256 (changed)`);
  });
  return problems;
}

/** The collections of the target that hold a document (the indexes `connectDatabase` makes are no content). */
async function nonEmptyCollections(db: Database): Promise<string[]> {
  const found: string[] = [];
  for (const name of await collectionNames(db)) if (await db.connection.db!.collection(name).findOne({})) found.push(name);
  return found;
}

async function bucketIsEmpty(storage: ObjectStorage): Promise<boolean> {
  for await (const _object of storage.listObjects('')) return false;
  return true;
}

/** Each listed object is in the bucket with its SHA-256 (read back in full). Returns the problems. */
async function checkObjectsInBucket(storage: ObjectStorage, dir: string): Promise<string[]> {
  const problems: string[] = [];
  await forEachLimited(objectLines(dir), OBJECTS_IN_FLIGHT, async (object) => {
    const read = await storage.read(object.key).catch((error: { name?: string }) => {
      if (error.name === 'NoSuchKey' || error.name === 'NotFound') return null;
      throw error;
    });
    if (!read) {
      problems.push(`${object.key}: missing from the bucket`);
      return;
    }
    const found = await hashStream(read.body);
    if (found.sha256 !== object.sha256) problems.push(`${object.key}: its SHA-256 in the bucket is not the one listed`);
  });
  return problems;
}

export interface RestoreResult {
  manifest: BackupManifest;
  manifestSha256: string;
  dryRun: boolean;
  collections: { name: string; documents: number }[];
  objects: { count: number; uploaded: number; verified: number };
  /** The audit log checked on the restored database with this configuration's AUDIT_HMAC_KEY (when intact, a `backup_restored` entry follows it). */
  audit: Awaited<ReturnType<typeof verifyAudit>> | null;
  /** Staff second-factor secrets sealed with a key, and how many of them this configuration's TOTP_ENCRYPTION_KEY opens. */
  totp: { sealed: number; readable: number } | null;
  /** What does not match after the restore (a non-empty list: exit code 1). */
  problems: string[];
}

/** A restore that began writing and could not finish: the target holds part of the backup. */
export class RestoreIncomplete extends Error {}

function listProblems(problems: string[]): string {
  return problems.slice(0, 10).join('\n  ') + (problems.length > 10 ? `\n  … and ${problems.length - 10} more` : '');
}

/**
 * Restores a backup into an empty database and bucket (the ones of the configuration). Everything is checked
 * before the first write: the manifest, every file's SHA-256, the copied objects; that the target database
 * holds no document and (with copied objects) the bucket no object; with a listed-only backup, that the
 * bucket (a replica) holds every listed object with its SHA-256. Then the objects are uploaded and read back,
 * the collections inserted (`audit_head` last), missing indexes built, and the counts, the audit log and the
 * staff's TOTP secrets checked; an intact log gets a `backup_restored` entry. There is no force: restoring over data would mix two states of the audit
 * chain and the clips; restore into new ones and point the configuration at them.
 */
export async function restore(deps: BackupDeps, options: { from: string; actor: AuditEvent['actor']; dryRun?: boolean; log?: (line: string) => void; now?: () => Date }): Promise<RestoreResult> {
  const { db, storage } = deps;
  const log = options.log ?? (() => undefined);
  const dir = options.from;
  const { manifest, sha256: manifestSha256 } = await readManifest(dir);
  log(`backup of ${manifest.finishedAt} (${manifest.app.name} ${manifest.app.version}), manifest SHA-256 ${manifestSha256}`);

  const damaged = await checkBackup(dir, manifest);
  if (damaged.length > 0) throw new BackupRefused(`the backup is damaged, nothing was restored:\n  ${listProblems(damaged)}`);
  log(`backup files match the manifest${manifest.objects.mode === 'copy' ? `, and the ${manifest.objects.count} copied objects their SHA-256` : ''}`);

  const busy = await nonEmptyCollections(db);
  if (busy.length > 0) throw new BackupRefused(`the database "${db.connection.name}" is not empty (${busy.join(', ')}): restore into a new database, nothing was restored`);
  if (manifest.objects.mode === 'copy') {
    if (!(await bucketIsEmpty(storage))) throw new BackupRefused(`the bucket "${storage.bucket}" is not empty: restore into a new bucket, nothing was restored`);
  } else {
    const missing = await checkObjectsInBucket(storage, dir);
    if (missing.length > 0) {
      throw new BackupRefused(`this backup lists its objects without copies, and the bucket "${storage.bucket}" does not hold them all, nothing was restored:\n  ${listProblems(missing)}`);
    }
    log(`the bucket "${storage.bucket}" holds all ${manifest.objects.count} listed objects with their SHA-256`);
  }

  const result: RestoreResult = {
    manifest,
    manifestSha256,
    dryRun: options.dryRun === true,
    collections: manifest.collections.map(({ name, documents }) => ({ name, documents })),
    objects: { count: manifest.objects.count, uploaded: 0, verified: manifest.objects.mode === 'list' ? manifest.objects.count : 0 },
    audit: null,
    totp: null,
    problems: [],
  };
  if (options.dryRun) return result;

  try {
    // Objects first: until the documents are in, the application sees no clip whose files are still on their way.
    if (manifest.objects.mode === 'copy') {
      await forEachLimited(objectLines(dir), OBJECTS_IN_FLIGHT, async (object) => {
        await storage.upload(object.key, createReadStream(blobPath(dir, object.sha256)), object.contentType);
        result.objects.uploaded += 1;
      });
      log(`objects: ${result.objects.uploaded} uploaded`);
      const wrong = await checkObjectsInBucket(storage, dir);
      result.objects.verified = manifest.objects.count - wrong.length;
      if (wrong.length > 0) throw new Error(`objects read back do not match:\n  ${listProblems(wrong)}`);
      log(`objects: ${result.objects.verified} read back with their SHA-256`);
    }

    const order = [...manifest.collections].sort((a, b) => Number(a.name === 'audit_head') - Number(b.name === 'audit_head'));
    for (const entry of order) {
      const collection = db.connection.db!.collection(entry.name);
      let batch: mongo.Document[] = [];
      let inserted = 0;
      for await (const line of linesOf(join(dir, entry.file))) {
        batch.push(EJSON.parse(line, { relaxed: false }) as mongo.Document);
        if (batch.length === BATCH) {
          inserted += (await collection.insertMany(batch, { ordered: true })).insertedCount;
          batch = [];
        }
      }
      if (batch.length > 0) inserted += (await collection.insertMany(batch, { ordered: true })).insertedCount;
      // The models' indexes are there already (connectDatabase builds them); the others are built from the backup's list.
      const present = await collection.indexes().catch(() => []);
      const names = new Set(present.map((index) => index.name));
      const keys = new Set(present.map((index) => JSON.stringify(index.key)));
      for (const index of entry.indexes) {
        if (names.has(index.name) || keys.has(JSON.stringify(index.key))) continue;
        await collection.createIndex(index.key as mongo.IndexSpecification, { name: index.name, ...(index.unique ? { unique: true } : {}), ...(index.sparse ? { sparse: true } : {}) });
      }
      const counted = await collection.countDocuments({});
      if (inserted !== entry.documents || counted !== entry.documents) result.problems.push(`${entry.name}: ${counted} documents after the restore, the backup has ${entry.documents}`);
      log(`${entry.name}: ${inserted} documents`);
    }
  } catch (error) {
    throw new RestoreIncomplete(
      `restore INCOMPLETE: ${(error as Error).message}\n` +
        `The database "${db.connection.name}" and the bucket "${storage.bucket}" now hold part of the backup: ` +
        'do not start the application on them; drop them (or take new ones) and restore again.',
      { cause: error },
    );
  }

  result.audit = await verifyAudit(db);
  if (result.audit.ok) {
    // The restored log says it was restored, and from what: the time between the backup and now is the gap in it.
    const details = { manifestSha256, backupFinishedAt: manifest.finishedAt, objects: manifest.objects.mode, documents: manifest.collections.reduce((n, c) => n + c.documents, 0), objectCount: manifest.objects.count };
    await appendAudit(db, { actor: options.actor, action: 'backup_restored', details }, (options.now ?? (() => new Date()))());
  } else {
    result.problems.push(`audit log BROKEN at entry ${result.audit.badSeq}: ${result.audit.problem}${db.keys.audit ? ' (is AUDIT_HMAC_KEY the one the backed-up system used?)' : ''}`);
  }
  result.totp = await checkTotpSecrets(db);
  if (result.totp.readable < result.totp.sealed) {
    result.problems.push(`${result.totp.sealed - result.totp.readable} of ${result.totp.sealed} staff second-factor secrets do not open with this TOTP_ENCRYPTION_KEY: set the key the backed-up system used`);
  }
  return result;
}

/** Opens every sealed TOTP secret with the configured key (nothing is printed or kept). */
async function checkTotpSecrets(db: Database): Promise<{ sealed: number; readable: number }> {
  let sealed = 0;
  let readable = 0;
  for await (const user of db.staffUsers.find({ 'totp.secret': { $type: 'string' } }).select({ 'totp.secret': 1 }).lean<StaffUser[]>().cursor()) {
    const secret = user.totp.secret;
    if (!secret || !isSealed(secret)) continue;
    sealed += 1;
    try {
      openTotpSecret(db.keys.totp, secret, user._id.toHexString());
      readable += 1;
    } catch {
      // counted as unreadable
    }
  }
  return { sealed, readable };
}

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Types } from 'mongoose';
import { runCli } from '../../server/cli/cli';
import { anchorAudit, appendAudit, entryHash, GENESIS_HASH, listAudit, verifyAudit } from '../../server/services/audit.service';
import { loadConfig } from '../../shared/config';
import type { Database } from '../../shared/db';
import type { AuditEntry } from '../../shared/models/audit-entry.model';
import { startTestApp, type TestApp } from '../helpers/test-env';

describe('the audit log', () => {
  let app: TestApp;
  const actor = { id: new Types.ObjectId().toHexString(), email: 'ana@example.org' };

  beforeEach(async () => {
    app = await startTestApp();
  });

  afterEach(async () => {
    await app.close();
  });

  async function append(count: number, concurrently: boolean) {
    const at = new Date('2026-12-01T05:00:00Z');
    const one = (i: number) => appendAudit(app.services.db, { actor, action: 'login', details: { n: i, note: `entry ${i}` } }, at);
    if (concurrently) return Promise.all(Array.from({ length: count }, (_, i) => one(i)));
    const out = [];
    for (let i = 0; i < count; i += 1) out.push(await one(i));
    return out;
  }

  async function cliVerify(): Promise<{ code: number; out: string }> {
    const lines: string[] = [];
    const code = await runCli(['audit', 'verify'], app.services, (line) => lines.push(line));
    return { code, out: lines.join('\n') };
  }

  test('when 25 entries are appended at once, then they take places 1–25 in one unforked chain that verifies', async () => {
    const entries = await append(25, true);
    expect(entries.map((e) => e._id).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(await verifyAudit(app.services.db)).toMatchObject({ ok: true, entries: 25 });
    expect(await cliVerify()).toEqual({ code: 0, out: expect.stringMatching(/intact: 25 entries/) });
    const page = await listAudit(app.services.db, { limit: 10 });
    expect(page.total).toBe(25);
    expect(page.entries.map((e) => e._id)).toEqual([25, 24, 23, 22, 21, 20, 19, 18, 17, 16]);
  });

  test('when an entry is rewritten in the database, then verify fails naming that entry', async () => {
    await append(6, false);
    await app.services.db.auditEntries.collection.updateOne({ _id: 4 as never }, { $set: { 'details.note': 'nothing happened' } });
    expect(await verifyAudit(app.services.db)).toMatchObject({ ok: false, badSeq: 4, problem: expect.stringMatching(/rewritten/) });
    const { code, out } = await cliVerify();
    expect(code).toBe(1);
    expect(out).toMatch(/entry 4/);
  });

  test('when an entry is rewritten with a recomputed hash, then the next entry no longer follows it', async () => {
    await append(6, false);
    const { entryHash } = await import('../../server/services/audit.service');
    const entry = (await app.services.db.auditEntries.findById(3).lean())!;
    const forged = { ...entry, action: 'logout' as const };
    const { hash: _old, ...rest } = forged;
    await app.services.db.auditEntries.collection.updateOne({ _id: 3 as never }, { $set: { action: 'logout', hash: entryHash(rest) } });
    expect(await verifyAudit(app.services.db)).toMatchObject({ ok: false, badSeq: 4 });
  });

  test('when an entry in the middle or at the end is deleted, then verify fails', async () => {
    await append(5, false);
    await app.services.db.auditEntries.collection.deleteOne({ _id: 5 as never });
    expect(await verifyAudit(app.services.db)).toMatchObject({ ok: false, badSeq: 5, problem: expect.stringMatching(/deleted/) });
    await app.services.db.auditEntries.collection.deleteOne({ _id: 2 as never });
    expect(await verifyAudit(app.services.db)).toMatchObject({ ok: false, badSeq: 2, problem: expect.stringMatching(/deleted/) });
  });

  test('when the head pointer is behind (a crash after an insert), then the next append continues the chain', async () => {
    await append(3, false);
    await app.services.db.auditHead.collection.updateOne({ _id: 'head' as never }, { $set: { seq: 1 } });
    const next = (await append(1, false))[0]!;
    expect(next._id).toBe(4);
    expect(await verifyAudit(app.services.db)).toMatchObject({ ok: true, entries: 4 });
  });
});

describe('the audit log anchored by a key outside the database', () => {
  const KEY = 'an audit key that lives only in the configuration';
  let app: TestApp;
  const actor = { id: new Types.ObjectId().toHexString(), email: 'ana@example.org' };

  beforeEach(async () => {
    app = await startTestApp({ AUDIT_HMAC_KEY: KEY });
  });

  afterEach(async () => {
    await app.close();
  });

  async function append(db: Database, count: number) {
    for (let i = 0; i < count; i += 1) await appendAudit(db, { actor, action: 'login', details: { n: i } }, new Date('2026-12-01T05:00:00Z'));
  }

  async function cliVerify(): Promise<{ code: number; out: string }> {
    const lines: string[] = [];
    const code = await runCli(['audit', 'verify'], app.services, (line) => lines.push(line), { config: app.config });
    return { code, out: lines.join('\n') };
  }

  /** What someone with write access to the database can do: rewrite an entry and recompute every plain hash after it, and the head. */
  async function rewriteAndRehash(seq: number, change: Partial<AuditEntry>) {
    const entries = (await app.services.db.auditEntries.find().lean<AuditEntry[]>()).sort((a, b) => a._id - b._id);
    let prevHash = entries.find((e) => e._id === seq - 1)?.hash ?? GENESIS_HASH;
    for (const entry of entries.filter((e) => e._id >= seq)) {
      const { hash: _hash, mac: _mac, ...rest } = { ...entry, ...(entry._id === seq ? change : {}), prevHash };
      const hash = entryHash(rest);
      await app.services.db.auditEntries.collection.updateOne({ _id: entry._id as never }, { $set: { ...(entry._id === seq ? change : {}), prevHash, hash } });
      prevHash = hash;
    }
    await app.services.db.auditHead.collection.updateOne({ _id: 'head' as never }, { $set: { hash: prevHash } });
  }

  test('when an entry is rewritten and every plain hash after it recomputed, then the hashes alone verify but the key does not, and audit verify exits 1', async () => {
    await append(app.services.db, 6);
    expect(await verifyAudit(app.services.db)).toMatchObject({ ok: true, entries: 6, anchored: true });
    await rewriteAndRehash(3, { action: 'logout' });
    // Without the key, the forgery is a perfect chain: that is why the key exists.
    expect(await verifyAudit({ ...app.services.db, keys: { audit: null, totp: null } })).toMatchObject({ ok: true, entries: 6 });
    expect(await verifyAudit(app.services.db)).toMatchObject({ ok: false, badSeq: 3, problem: expect.stringMatching(/signature/) });
    const { code, out } = await cliVerify();
    expect([code, out]).toEqual([1, expect.stringMatching(/BROKEN at entry 3: its signature does not match/)]);
  });

  test('when the macs are stripped along with the rewrite, then verify fails too (the newest entry must be signed)', async () => {
    await append(app.services.db, 4);
    await app.services.db.auditEntries.collection.updateMany({}, { $set: { mac: null } });
    await rewriteAndRehash(2, { action: 'logout' });
    expect(await verifyAudit(app.services.db)).toMatchObject({ ok: false, problem: expect.stringMatching(/no entry is signed/) });
  });

  test('when a log written before the key meets the key, then the start appends a signed entry vouching for it; an entry written later without the key breaks verify', async () => {
    const keyless = { ...app.services.db, keys: { audit: null, totp: null } };
    await append(keyless, 3);
    expect(await anchorAudit(app.services.db, new Date())).toBeNull();
    expect(await verifyAudit(app.services.db)).toMatchObject({ ok: true, entries: 4, anchored: true });
    expect((await app.services.db.auditEntries.findById(4).lean())!).toMatchObject({ action: 'audit_anchored', details: { entries: 3 }, mac: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // A second start changes nothing.
    await anchorAudit(app.services.db, new Date());
    expect(await verifyAudit(app.services.db)).toMatchObject({ ok: true, entries: 4 });
    await append(keyless, 1);
    expect(await verifyAudit(app.services.db)).toMatchObject({ ok: false, badSeq: 5, problem: expect.stringMatching(/not signed/) });
  });

  test('when the key is given in a file, then it signs like the variable; both at once is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'audit-key-'));
    await writeFile(join(dir, 'key'), `${KEY}\n`);
    expect(loadConfig({ ...app.env, AUDIT_HMAC_KEY: undefined, AUDIT_HMAC_KEY_FILE: join(dir, 'key') }).keys.audit).toEqual(Buffer.from(KEY));
    expect(() => loadConfig({ ...app.env, AUDIT_HMAC_KEY_FILE: join(dir, 'key') })).toThrow(/not both/);
    expect(() => loadConfig({ ...app.env, AUDIT_HMAC_KEY: undefined, NODE_ENV: 'production', PUBLIC_URL: 'https://clips.example.org', S3_ACCESS_KEY_ID: 'real-id', S3_SECRET_ACCESS_KEY: 'real-secret' })).toThrow(/AUDIT_HMAC_KEY/);
  });
});

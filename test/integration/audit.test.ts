import { Types } from 'mongoose';
import { runCli } from '../../server/cli/cli';
import { appendAudit, listAudit, verifyAudit } from '../../server/services/audit.service';
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

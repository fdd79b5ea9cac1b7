import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Database } from '../../shared/db';
import type { AuditAction, AuditDetails, AuditEntry } from '../../shared/models/audit-entry.model';
import { isDuplicateKey } from '../../shared/errors';

/**
 * The audit log: append-only and hash-chained. The application only ever inserts entries (this module
 * has no update or delete). Each entry's `_id` is its sequence number, so two appends racing for the
 * same place cannot both win: the loser gets a duplicate-key error, reads the winner, and tries the
 * next place. `audit_head` remembers where the chain ends so an append reads two documents, not the
 * log; when it is behind (a crash between insert and head update), the next append walks it forward.
 *
 * The anchor outside the database: with a key in the configuration (AUDIT_HMAC_KEY, never stored), each
 * entry also carries `mac`, an HMAC-SHA-256 of its hash under that key. Since each hash covers the previous
 * one, the mac of entry n vouches for entries 1…n: someone who can write the database can rewrite an entry
 * and recompute every plain hash after it, but not the macs. Entries written before the key was set are
 * vouched for by the first signed one (`anchorAudit` appends one at start when the newest entry is unsigned).
 */

export const GENESIS_HASH = '0'.repeat(64);
const MAX_ATTEMPTS = 50;

export interface AuditEvent {
  actor: { id: string | null; email: string | null };
  action: AuditAction;
  target?: { kind: string; id: string } | null;
  details?: AuditDetails;
}

type Hashed = Omit<AuditEntry, 'hash' | 'mac'>;

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]));
  }
  return value;
}

/** The hash of an entry: every field but the hash itself, in a fixed order, with the previous hash. */
export function entryHash(entry: Hashed): string {
  const fields = [entry._id, entry.at.toISOString(), entry.actor.id, entry.actor.email, entry.action, entry.target?.kind ?? null, entry.target?.id ?? null, canonical(entry.details), entry.prevHash];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

/** The anchor: an HMAC of the entry's hash under the key from the configuration. */
export function entryMac(key: Buffer, hash: string): string {
  return createHmac('sha256', key).update(`audit-entry:${hash}`).digest('hex');
}

function sameMac(given: string, expected: string): boolean {
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

async function head(db: Database): Promise<{ seq: number; hash: string }> {
  let current = (await db.auditHead.findById('head').lean()) ?? { seq: 0, hash: GENESIS_HASH };
  // Walk forward past entries the head does not know yet (a crash, or an append that lost the head update race).
  for (;;) {
    const next = await db.auditEntries.findById(current.seq + 1).lean<AuditEntry>();
    if (!next) return current;
    current = { seq: next._id, hash: next.hash };
  }
}

async function advanceHead(db: Database, seq: number, hash: string): Promise<void> {
  try {
    await db.auditHead.updateOne({ _id: 'head', seq: { $lt: seq } }, { $set: { seq, hash } }, { upsert: true });
  } catch (error) {
    // Someone else moved the head further meanwhile (the upsert then collides on _id): that is fine.
    if (!isDuplicateKey(error)) throw error;
  }
}

export async function appendAudit(db: Database, event: AuditEvent, now: Date): Promise<AuditEntry> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const last = await head(db);
    const draft: Hashed = {
      _id: last.seq + 1,
      at: now,
      actor: event.actor,
      action: event.action,
      target: event.target ?? null,
      details: event.details ?? {},
      prevHash: last.hash,
    };
    const hash = entryHash(draft);
    const entry: AuditEntry = { ...draft, hash, mac: db.keys.audit ? entryMac(db.keys.audit, hash) : null };
    try {
      await db.auditEntries.create(entry);
    } catch (error) {
      if (isDuplicateKey(error)) continue;
      throw error;
    }
    await advanceHead(db, entry._id, entry.hash);
    return entry;
  }
  throw new Error(`the audit log stayed busy for ${MAX_ATTEMPTS} attempts`);
}

export type AuditVerdict =
  /** `anchored`: checked against the key outside the database (false without AUDIT_HMAC_KEY: the hashes alone). */
  | { ok: true; entries: number; lastHash: string; anchored: boolean }
  | { ok: false; entries: number; badSeq: number; problem: string };

const BATCH = 500;

/**
 * Reads the whole chain in order (by `_id` ranges: no server-side sort, which FerretDB cannot push down)
 * and recomputes every hash. The first entry that is missing, rewritten or out of place is named. With the
 * key, every mac is checked too: once one entry is signed, every later one must be, and so must the newest.
 */
export async function verifyAudit(db: Database): Promise<AuditVerdict> {
  const key = db.keys.audit;
  const headDoc = await db.auditHead.findById('head').lean();
  let prevHash = GENESIS_HASH;
  let seq = 0;
  let signed = false;
  let lastSigned = false;
  for (;;) {
    const batch = await db.auditEntries.find({ _id: { $gt: seq, $lte: seq + BATCH } }).lean<AuditEntry[]>();
    batch.sort((a, b) => a._id - b._id);
    for (const entry of batch) {
      if (entry._id !== seq + 1) return { ok: false, entries: seq, badSeq: seq + 1, problem: 'entry missing (deleted)' };
      if (entry.prevHash !== prevHash) return { ok: false, entries: seq, badSeq: entry._id, problem: 'does not follow the previous entry (previous entry rewritten or removed)' };
      const { hash, mac, ...rest } = entry;
      if (entryHash({ ...rest, target: rest.target ?? null, details: rest.details ?? {} }) !== hash) {
        return { ok: false, entries: seq, badSeq: entry._id, problem: 'content does not match its hash (entry rewritten)' };
      }
      if (key && mac) {
        if (!sameMac(mac, entryMac(key, hash))) return { ok: false, entries: seq, badSeq: entry._id, problem: 'its signature does not match (rewritten without the key, or signed with another key)' };
        signed = true;
      } else if (key && signed) return { ok: false, entries: seq, badSeq: entry._id, problem: 'not signed, after signed entries (written without the key)' };
      lastSigned = Boolean(key && mac);
      prevHash = hash;
      seq = entry._id;
    }
    if (batch.length < BATCH) {
      const beyond = await db.auditEntries.findOne({ _id: { $gt: seq } }).lean<AuditEntry>();
      if (beyond) return { ok: false, entries: seq, badSeq: seq + 1, problem: 'entry missing (deleted)' };
      break;
    }
  }
  if (headDoc && headDoc.seq > seq) return { ok: false, entries: seq, badSeq: seq + 1, problem: `the log ends at ${seq} but had reached ${headDoc.seq} (entries deleted at the end)` };
  if (headDoc && headDoc.seq === seq && headDoc.hash !== prevHash) return { ok: false, entries: seq, badSeq: seq, problem: 'the last entry was rewritten' };
  if (key && seq > 0 && !signed) return { ok: false, entries: seq, badSeq: seq, problem: 'no entry is signed with the key (the log was rewritten, or it was never anchored: start the server once with the key)' };
  if (key && seq > 0 && !lastSigned) return { ok: false, entries: seq, badSeq: seq, problem: 'the newest entry is not signed' };
  return { ok: true, entries: seq, lastHash: prevHash, anchored: key !== null };
}

/**
 * At start, with a key, for a log written before the key was set (entries, none signed): the chain is
 * checked by its hashes and an `audit_anchored` entry, signed, is appended; it vouches for every entry
 * before it. A log with signed entries is left alone (verify names any unsigned one after them). Returns
 * the verdict when the unsigned chain is broken (nothing is appended then), else null.
 */
export async function anchorAudit(db: Database, now: Date): Promise<AuditVerdict | null> {
  if (!db.keys.audit) return null;
  if ((await head(db)).seq === 0 || (await db.auditEntries.exists({ mac: { $type: 'string' } }))) return null;
  const verdict = await verifyAudit({ ...db, keys: { ...db.keys, audit: null } });
  if (!verdict.ok) return verdict;
  await appendAudit(db, { actor: { id: null, email: 'server' }, action: 'audit_anchored', details: { entries: verdict.entries, lastHash: verdict.lastHash } }, now);
  return null;
}

/** A page of the log, newest first: `before` is the sequence number to start below (exclusive). */
export async function listAudit(db: Database, options: { before?: number; limit: number }): Promise<{ entries: AuditEntry[]; total: number }> {
  const total = (await head(db)).seq;
  const top = Math.min(options.before ?? total + 1, total + 1);
  const entries = await db.auditEntries.find({ _id: { $lt: top, $gte: top - options.limit } }).lean<AuditEntry[]>();
  return { entries: entries.sort((a, b) => b._id - a._id), total };
}

/** The entries about one thing (a clip: `{ kind: 'submission', id }`), oldest first: for its page. */
export async function auditFor(db: Database, target: { kind: string; id: string }): Promise<AuditEntry[]> {
  const entries = await db.auditEntries.find({ 'target.kind': target.kind, 'target.id': target.id }).lean<AuditEntry[]>();
  return entries.sort((a, b) => a._id - b._id);
}

import { createHash } from 'node:crypto';
import type { Database } from '../../shared/db';
import type { AuditAction, AuditDetails, AuditEntry } from '../../shared/models/audit-entry.model';
import { isDuplicateKey } from '../../shared/errors';

/**
 * The audit log: append-only and hash-chained. The application only ever inserts entries (this module
 * has no update or delete). Each entry's `_id` is its sequence number, so two appends racing for the
 * same place cannot both win: the loser gets a duplicate-key error, reads the winner, and tries the
 * next place. `audit_head` remembers where the chain ends so an append reads two documents, not the
 * log; when it is behind (a crash between insert and head update), the next append walks it forward.
 */

export const GENESIS_HASH = '0'.repeat(64);
const MAX_ATTEMPTS = 50;

export interface AuditEvent {
  actor: { id: string | null; email: string | null };
  action: AuditAction;
  target?: { kind: string; id: string } | null;
  details?: AuditDetails;
}

type Hashed = Omit<AuditEntry, 'hash'>;

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
    const entry: AuditEntry = { ...draft, hash: entryHash(draft) };
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
  | { ok: true; entries: number; lastHash: string }
  | { ok: false; entries: number; badSeq: number; problem: string };

const BATCH = 500;

/**
 * Reads the whole chain in order (by `_id` ranges: no server-side sort, which FerretDB cannot push down)
 * and recomputes every hash. The first entry that is missing, rewritten or out of place is named.
 */
export async function verifyAudit(db: Database): Promise<AuditVerdict> {
  const headDoc = await db.auditHead.findById('head').lean();
  let prevHash = GENESIS_HASH;
  let seq = 0;
  for (;;) {
    const batch = await db.auditEntries.find({ _id: { $gt: seq, $lte: seq + BATCH } }).lean<AuditEntry[]>();
    batch.sort((a, b) => a._id - b._id);
    for (const entry of batch) {
      if (entry._id !== seq + 1) return { ok: false, entries: seq, badSeq: seq + 1, problem: 'entry missing (deleted)' };
      if (entry.prevHash !== prevHash) return { ok: false, entries: seq, badSeq: entry._id, problem: 'does not follow the previous entry (previous entry rewritten or removed)' };
      const { hash, ...rest } = entry;
      if (entryHash({ ...rest, target: rest.target ?? null, details: rest.details ?? {} }) !== hash) {
        return { ok: false, entries: seq, badSeq: entry._id, problem: 'content does not match its hash (entry rewritten)' };
      }
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
  return { ok: true, entries: seq, lastHash: prevHash };
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

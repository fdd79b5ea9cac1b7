import type { Part } from '@aws-sdk/client-s3';
import type { ByteInspection } from './inspect-stream';

/** What was stored last for an upload: its last part (number and ETag) and its incomplete part. */
export function markOf(lastPart: Part | undefined, incompleteEtag: string | undefined): string {
  return `${lastPart?.PartNumber ?? 0}:${lastPart?.ETag ?? ''}:${incompleteEtag ?? ''}`;
}

/** What the bytes of a finished upload were found to be while they arrived. */
export interface ArrivedBytes<T> {
  bytes: number;
  sha256: string;
  result: T;
}

/** An upload's inspection, and the mark of what this process stored last for it (see `markOf`). */
export interface Tracked<T> {
  inspection: ByteInspection<T>;
  mark: string;
}

/**
 * The inspections (size limit, sniffing, SHA-256) of the uploads this process receives, each kept while the
 * upload's writes follow on from each other here: from offset 0, each at the offset the last one ended, with
 * nothing stored since by anyone else (the mark). Otherwise it is forgotten (Node cannot save a SHA-256 in
 * progress), and the stored object is read back once at the end. At most `max` are kept (the least recently
 * written goes first).
 */
export class UploadInspections<T> {
  private readonly byUpload = new Map<string, Tracked<T>>();

  constructor(
    private readonly start: () => ByteInspection<T>,
    private readonly max: number,
  ) {}

  /** The upload's inspection if a write at `offset` follows on from what it has seen (a new one at offset 0); else null. */
  follow(id: string, offset: number): Tracked<T> | null {
    let tracked = this.byUpload.get(id);
    this.byUpload.delete(id);
    if (offset === 0) tracked = { inspection: this.start(), mark: markOf(undefined, undefined) };
    else if (!tracked || tracked.inspection.bytes !== offset) return null;
    // Most recently used last; past the limit, the oldest goes (its upload is read back at the end).
    this.byUpload.set(id, tracked);
    for (const oldest of this.byUpload.keys()) {
      if (this.byUpload.size <= this.max) break;
      this.byUpload.delete(oldest);
    }
    return tracked;
  }

  /**
   * The inspection still holds if what is stored is what this process stored last: if anything else was stored
   * since (another process, after bytes were lost), the bytes it saw may not be the ones stored.
   */
  check(id: string, tracked: Tracked<T> | null, stored: string): Tracked<T> | null {
    if (!tracked || tracked.mark === stored) return tracked;
    this.forget(id);
    return null;
  }

  /** After a write that ended at `offset`, having stored `mark` last: kept if the inspection saw exactly that. */
  settle(id: string, tracked: Tracked<T> | null, offset: number, mark: string): void {
    if (tracked && tracked.inspection.bytes === offset) tracked.mark = mark;
    else this.forget(id);
  }

  forget(id: string): void {
    this.byUpload.delete(id);
  }

  /** The checks made while the bytes arrived, when they cover the whole upload; else null (read it back). */
  arrived(id: string, size: number): ArrivedBytes<T> | null {
    const inspection = this.byUpload.get(id)?.inspection;
    this.byUpload.delete(id);
    if (!inspection || inspection.bytes !== size) return null;
    return { bytes: inspection.bytes, result: inspection.end(), sha256: inspection.digest() };
  }
}

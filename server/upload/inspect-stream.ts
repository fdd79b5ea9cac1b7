import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { AppError } from '../../shared/errors';

export interface InspectionOptions<T> {
  headBytes: number;
  maxBytes: number;
  tooLarge: () => AppError;
  inspectHead: (head: Buffer) => T;
}

/**
 * The checks made on an upload's bytes, fed chunk by chunk: the size against `maxBytes`, the SHA-256,
 * and `inspectHead` on the first `headBytes` (or on all of it, if shorter). `update` throws the refusal.
 * InspectStream wraps it for a single stream; a resumable upload feeds one across its requests.
 */
export class ByteInspection<T> {
  private readonly hash: Hash = createHash('sha256');
  private head: Buffer[] = [];
  private headLength = 0;
  private inspectedHead: { result: T } | null = null;
  bytes = 0;

  constructor(private readonly options: InspectionOptions<T>) {}

  get inspected(): boolean {
    return this.inspectedHead !== null;
  }

  /** The head's inspection; throws if the head has not been inspected yet. */
  get result(): T {
    if (!this.inspectedHead) throw new Error('the head has not been inspected yet');
    return this.inspectedHead.result;
  }

  /** Counts and hashes a chunk; inspects the head once enough has come. Throws a refusal (too large, wrong type). */
  update(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.bytes > this.options.maxBytes) throw this.options.tooLarge();
    this.hash.update(chunk);
    if (this.inspectedHead) return;
    this.head.push(chunk);
    this.headLength += chunk.length;
    if (this.headLength >= this.options.headBytes) this.inspectHeadNow();
  }

  /** At the end of the bytes: inspects a head shorter than `headBytes`; returns the inspection's result. */
  end(): T {
    if (!this.inspectedHead) this.inspectHeadNow();
    return this.result;
  }

  /** The head's bytes, held until inspected (then handed over once and forgotten). */
  takeHead(): Buffer {
    const head = Buffer.concat(this.head);
    this.head = [];
    return head;
  }

  digest(): string {
    return this.hash.digest('hex');
  }

  private inspectHeadNow(): void {
    const head = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head);
    this.head = [head];
    this.inspectedHead = { result: this.options.inspectHead(head) };
  }
}

/**
 * A pass-through that looks at the bytes on their way to S3: it holds back the first `headBytes` until
 * `inspectHead` has accepted them, counts bytes against `maxBytes`, and computes the SHA-256.
 * Nothing but the head is ever held; the rest flows with back-pressure.
 */
export class InspectStream<T> extends Transform {
  private readonly checks: ByteInspection<T>;
  readonly inspection: Promise<T>;
  private settleInspection!: { resolve: (value: T) => void; reject: (error: Error) => void };

  constructor(options: InspectionOptions<T>) {
    super();
    this.checks = new ByteInspection(options);
    this.inspection = new Promise<T>((resolve, reject) => {
      this.settleInspection = { resolve, reject };
    });
    // The inspection promise is awaited by the caller; an early stream error must not also surface as unhandled.
    this.inspection.catch(() => undefined);
  }

  /** Bytes seen so far. (Not `size`: lib-storage reads a body's `size` as its total length.) */
  get bytesSeen(): number {
    return this.checks.bytes;
  }

  digest(): string {
    return this.checks.digest();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const wasInspected = this.checks.inspected;
    try {
      this.checks.update(chunk);
    } catch (error) {
      this.refuse(error as Error);
      callback(error as Error);
      return;
    }
    if (wasInspected) callback(null, chunk);
    else if (this.checks.inspected) this.release(callback);
    else callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.checks.inspected) {
      callback();
      return;
    }
    try {
      this.checks.end();
    } catch (error) {
      this.refuse(error as Error);
      callback(error as Error);
      return;
    }
    this.release(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.checks.inspected) this.settleInspection.reject(error ?? new Error('upload ended before its first bytes'));
    callback(error);
  }

  /** A refusal before the head was accepted is the inspection's answer too. */
  private refuse(error: Error): void {
    if (!this.checks.inspected) this.settleInspection.reject(error);
  }

  private release(callback: TransformCallback): void {
    this.settleInspection.resolve(this.checks.result);
    callback(null, this.checks.takeHead());
  }
}

import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AppError } from '../../shared/errors';

/**
 * A pass-through that looks at the bytes on their way to S3: it holds back the first `headBytes` until
 * `inspectHead` has accepted them, counts bytes against `maxBytes`, and computes the SHA-256.
 * Nothing but the head is ever held; the rest flows with back-pressure.
 */
export class InspectStream<T> extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private head: Buffer[] = [];
  private headLength = 0;
  private inspected = false;
  private bytes = 0;
  readonly inspection: Promise<T>;
  private settleInspection!: { resolve: (value: T) => void; reject: (error: Error) => void };

  constructor(
    private readonly options: {
      headBytes: number;
      maxBytes: number;
      tooLarge: () => AppError;
      inspectHead: (head: Buffer) => T;
    },
  ) {
    super();
    this.inspection = new Promise<T>((resolve, reject) => {
      this.settleInspection = { resolve, reject };
    });
    // The inspection promise is awaited by the caller; an early stream error must not also surface as unhandled.
    this.inspection.catch(() => undefined);
  }

  /** Bytes seen so far. (Not `size`: lib-storage reads a body's `size` as its total length.) */
  get bytesSeen(): number {
    return this.bytes;
  }

  digest(): string {
    return this.hash.digest('hex');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.options.maxBytes) {
      callback(this.options.tooLarge());
      return;
    }
    this.hash.update(chunk);
    if (this.inspected) {
      callback(null, chunk);
      return;
    }
    this.head.push(chunk);
    this.headLength += chunk.length;
    if (this.headLength >= this.options.headBytes) this.inspectHeadNow(callback);
    else callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.inspected) this.inspectHeadNow(callback);
    else callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.inspected) this.settleInspection.reject(error ?? new Error('upload ended before its first bytes'));
    callback(error);
  }

  private inspectHeadNow(callback: TransformCallback): void {
    const head = Buffer.concat(this.head);
    this.head = [];
    this.inspected = true;
    try {
      this.settleInspection.resolve(this.options.inspectHead(head));
    } catch (error) {
      this.settleInspection.reject(error as Error);
      callback(error as Error);
      return;
    }
    callback(null, head);
  }
}

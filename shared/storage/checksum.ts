import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import zlib from 'node:zlib';

/** A pass-through that computes the SHA-256 of what flows through it, so a file is read once, not twice. */
export function sha256Passthrough(): { stream: Transform; digest(): string } {
  const hash = createHash('sha256');
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

/**
 * Native CRC32 (Node ≥ 20.15), for the per-part checksum S3 verifies (x-amz-checksum-crc32); without it the
 * SDK computes the parts' CRC32 itself. Used by the multipart uploader and the tus store.
 */
export const crc32: ((data: Uint8Array, value?: number) => number) | undefined = typeof zlib.crc32 === 'function' ? zlib.crc32 : undefined;

/** A part's CRC32 as S3 wants it in x-amz-checksum-crc32: the 4 bytes, big-endian, base64. */
export function crc32Header(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}

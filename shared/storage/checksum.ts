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

type Crc32 = (data: Uint8Array, value?: number) => number;

/**
 * @node-rs/crc32 ships prebuilt binaries (no install script) for the common platforms; where none fits,
 * loading it throws and zlib's CRC32 (Node ≥ 20.15, package.json `engines`) is used instead.
 */
function nativeCrc32(): Crc32 | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('@node-rs/crc32') as { crc32: Crc32 }).crc32;
  } catch {
    return undefined;
  }
}

/**
 * CRC32 (the IEEE polynomial, as zlib and ZIP use it) for the per-part checksum S3 verifies
 * (x-amz-checksum-crc32), given with each part so the SDK does not compute it again, and for ZIP entries.
 * Used by the multipart uploader, the tus store and zip-stream.ts. @node-rs/crc32 (carry-less multiplication) takes 0.08 CPU-second per GiB
 * on the bench machine, zlib.crc32 (Node ≥ 20.15) 0.22: measured with bench:upload, that difference was
 * a tenth of the server's CPU per uploaded GiB.
 */
export const crc32: Crc32 = nativeCrc32() ?? zlib.crc32;

/** A part's CRC32 as S3 wants it in x-amz-checksum-crc32: the 4 bytes, big-endian, base64. */
export function crc32Header(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}

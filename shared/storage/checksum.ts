import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

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

import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StoredObject } from '../../shared/models/submission.model';
import type { ObjectStorage } from '../../shared/storage/object-storage';

export class ChecksumMismatchError extends Error {}

/** Downloads an original into the job's folder and checks it is byte for byte what was uploaded. */
export async function fetchOriginal(storage: ObjectStorage, object: StoredObject, path: string): Promise<void> {
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  await pipeline(await storage.download(object.key), hashing, createWriteStream(path, { mode: 0o600 }));
  const actual = hash.digest('hex');
  if (actual !== object.sha256) {
    throw new ChecksumMismatchError(`the stored original of ${object.key} does not match its upload checksum`);
  }
}

import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { StoredObject } from '../../shared/submissions/submission.model';
import { sha256Passthrough } from '../../shared/storage/checksum';
import type { ObjectStorage } from '../../shared/storage/object-storage';

export class ChecksumMismatchError extends Error {}

/** Downloads an original into the job's folder and checks it is byte for byte what was uploaded. */
export async function fetchOriginal(storage: ObjectStorage, object: StoredObject, path: string): Promise<void> {
  const hashing = sha256Passthrough();
  await pipeline(await storage.download(object.key), hashing.stream, createWriteStream(path, { mode: 0o600 }));
  const actual = hashing.digest();
  if (actual !== object.sha256) {
    throw new ChecksumMismatchError(`the stored original of ${object.key} does not match its upload checksum`);
  }
}

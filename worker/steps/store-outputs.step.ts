import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { StoredObject } from '../../shared/submissions/submission.model';
import { outputKey, outputsPrefix, type OutputName } from '../../shared/storage/keys';
import { sha256Passthrough } from '../../shared/storage/checksum';
import type { ObjectStorage } from '../../shared/storage/object-storage';

export const CONTENT_TYPES: Record<OutputName, string> = {
  master: 'video/mp4',
  protectedMaster: 'video/mp4',
  preview: 'video/mp4',
  captionedPreview: 'video/mp4',
  poster: 'image/jpeg',
  captionsVtt: 'text/vtt; charset=utf-8',
  captionsSrt: 'application/x-subrip; charset=utf-8',
};

/**
 * Uploads the job's outputs under its lease's folder (shared/storage/keys.ts): a worker that lost its
 * lease can never overwrite the current holder's objects.
 */
export async function storeOutputs(
  storage: ObjectStorage,
  submissionId: string,
  lease: string,
  files: Partial<Record<OutputName, string>>,
): Promise<Record<string, StoredObject>> {
  const entries = await Promise.all(
    (Object.entries(files) as Array<[OutputName, string]>).map(
      async ([name, path]) => [name, await storeFile(storage, outputKey(submissionId, lease, name), path, CONTENT_TYPES[name])] as const,
    ),
  );
  return Object.fromEntries(entries);
}

/** Uploads one file, hashed on the way to S3 (read once), and returns its record. */
export async function storeFile(storage: ObjectStorage, key: string, path: string, contentType: string): Promise<StoredObject> {
  const hashing = sha256Passthrough();
  const source = createReadStream(path);
  source.once('error', (error) => hashing.stream.destroy(error));
  await storage.upload(key, source.pipe(hashing.stream), contentType);
  return { key, bytes: (await stat(path)).size, sha256: hashing.digest(), contentType };
}

/**
 * Removes a submission's output objects other than `keep` (the recorded ones): after a settle, what
 * earlier attempts (killed or replaced workers) left; after a lost lease, the loser's own, with `keep` empty
 * and `only` its folder. Returns how many were removed.
 */
export async function removeOutputs(storage: ObjectStorage, submissionId: string, keep: StoredObject[], only?: string): Promise<number> {
  const kept = new Set(keep.map((object) => object.key));
  const prefix = only ? `${outputsPrefix(submissionId)}${only}/` : outputsPrefix(submissionId);
  const stale = (await storage.list(prefix)).filter((key) => !kept.has(key));
  await Promise.all(stale.map((key) => storage.remove(key)));
  return stale.length;
}

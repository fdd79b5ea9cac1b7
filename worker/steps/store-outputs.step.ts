import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { StoredObject } from '../../shared/models/submission.model';
import { outputKey, type OutputName } from '../../shared/storage/keys';
import { sha256Passthrough } from '../../shared/storage/checksum';
import type { ObjectStorage } from '../../shared/storage/object-storage';

export const CONTENT_TYPES: Record<OutputName, string> = {
  preview: 'video/mp4',
  captionedPreview: 'video/mp4',
  poster: 'image/jpeg',
  captionsVtt: 'text/vtt; charset=utf-8',
  captionsSrt: 'application/x-subrip; charset=utf-8',
};

/**
 * Uploads the job's outputs under their deterministic keys: a re-run overwrites the same objects,
 * so a submission never has two sets of outputs.
 */
export async function storeOutputs(
  storage: ObjectStorage,
  submissionId: string,
  files: Partial<Record<OutputName, string>>,
): Promise<Record<string, StoredObject>> {
  const entries = await Promise.all(
    (Object.entries(files) as Array<[OutputName, string]>).map(async ([name, path]) => {
      const key = outputKey(submissionId, name);
      // Hashed on the way to S3: each file is read once.
      const hashing = sha256Passthrough();
      const source = createReadStream(path);
      source.once('error', (error) => hashing.stream.destroy(error));
      await storage.upload(key, source.pipe(hashing.stream), CONTENT_TYPES[name]);
      const object: StoredObject = { key, bytes: (await stat(path)).size, sha256: hashing.digest(), contentType: CONTENT_TYPES[name] };
      return [name, object] as const;
    }),
  );
  return Object.fromEntries(entries);
}

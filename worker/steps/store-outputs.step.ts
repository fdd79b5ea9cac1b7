import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { StoredObject } from '../../shared/models/submission.model';
import { outputKey, type OutputName } from '../../shared/storage/keys';
import type { ObjectStorage } from '../../shared/storage/object-storage';

export const CONTENT_TYPES: Record<OutputName, string> = {
  preview: 'video/mp4',
  captionedPreview: 'video/mp4',
  poster: 'image/jpeg',
  captionsVtt: 'text/vtt; charset=utf-8',
  captionsSrt: 'application/x-subrip; charset=utf-8',
};

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Uploads the job's outputs under their deterministic keys: a re-run overwrites the same objects,
 * so a submission never has two sets of outputs.
 */
export async function storeOutputs(
  storage: ObjectStorage,
  submissionId: string,
  files: Partial<Record<OutputName, string>>,
): Promise<Record<string, StoredObject>> {
  const stored: Record<string, StoredObject> = {};
  for (const [name, path] of Object.entries(files) as Array<[OutputName, string]>) {
    const key = outputKey(submissionId, name);
    const [bytes, sha256] = await Promise.all([stat(path).then((s) => s.size), sha256Of(path)]);
    await storage.upload(key, createReadStream(path), CONTENT_TYPES[name]);
    stored[name] = { key, bytes, sha256, contentType: CONTENT_TYPES[name] };
  }
  return stored;
}

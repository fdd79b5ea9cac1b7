import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import type { TestApp } from './test-env';

/** Everything the app has stored: objects, unfinished multipart uploads, submission documents. */
export async function storedState(app: TestApp) {
  const { storage, db } = app.services;
  const objects = await storage.list('');
  const multipart = await storage.client.send(new ListMultipartUploadsCommand({ Bucket: storage.bucket }));
  const submissions = await db.submissions.countDocuments();
  return { objects, pendingMultipartUploads: (multipart.Uploads ?? []).length, submissions };
}

export async function expectNothingStored(app: TestApp): Promise<void> {
  expect(await storedState(app)).toEqual({ objects: [], pendingMultipartUploads: 0, submissions: 0 });
}

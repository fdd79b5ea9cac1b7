import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Types } from 'mongoose';
import { createSubmission } from '../../server/services/submission.service';
import { originalKey } from '../../shared/storage/keys';
import { claim, settle } from '../../shared/submissions/processing';
import type { StoredObject } from '../../shared/submissions/submission.model';
import { makeFixture, smallMp4 } from './fixtures';
import { demoConsent, type TestApp } from './test-env';
import { LEGACY_PROTECTION, NO_PROTECTION } from '../../shared/protection/protection';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const MEDIA = {
  container: 'mov,mp4,m4a,3gp,3g2,mj2',
  durationSeconds: 2,
  sizeBytes: 0,
  video: { index: 0, codec: 'h264', width: 320, height: 240, displayWidth: 320, displayHeight: 240, rotation: 0, mirrored: false, displayMatrix: null, averageFps: 25, variableFrameRate: false, pixelFormat: 'yuv420p', bitDepth: 8, colorTransfer: null, colorPrimaries: null, hdr: null, dolbyVision: false, frameCount: 50 },
  audio: { index: 1, codec: 'aac', sampleRate: 48000, channels: 1 },
  streams: { total: 2, video: 1, audio: 1, subtitle: 0, data: 0, attachment: 0 },
};

export interface ClipOptions {
  campaign?: string;
  language?: string;
  country?: string;
  organisation?: string;
  title?: string;
  protection?: boolean;
  /** Enter review at this time (the queue's order). */
  at?: Date;
}

/**
 * A clip uploaded as the API stores it, then taken through the worker's own operations into review, with
 * real objects in S3 for its preview (a real 2 s H.264 MP4), poster and captions — without running ffmpeg
 * on it again, so review tests stay fast. Returns its id and the contributor's status token.
 */
export async function clipInReview(app: TestApp, options: ClipOptions = {}): Promise<{ id: string; statusToken: string }> {
  const id = new Types.ObjectId().toHexString();
  const video = await smallMp4();
  const poster = await readFile(await makeFixture('poster.jpg', ['-f', 'lavfi', '-i', 'testsrc2=size=320x240', '-frames:v', '1']));
  const vtt = Buffer.from('WEBVTT\n\n00:00.000 --> 00:02.000\nСалідарнасць\n');
  const storage = app.services.storage;
  await storage.upload(originalKey(id), video, 'video/mp4');
  const { statusToken } = await createSubmission(app.deps, {
    id,
    input: {
      campaign: options.campaign ?? 'demo',
      organisation: options.organisation ?? 'Belarusian Independent Trade Union',
      country: options.country ?? 'BY',
      language: options.language ?? 'be',
      title: options.title ?? 'Салідарнасць',
      message: 'Free them all',
      contactEmail: null,
      protection: options.protection ? LEGACY_PROTECTION : NO_PROTECTION,
      consent: JSON.parse(demoConsent(options.language === 'ru' ? 'ru' : 'be')) as { version: number; language: string; statements: string[] },
    },
    video: { key: originalKey(id), bytes: video.length, sha256: sha(video), contentType: 'video/mp4' },
    subtitles: null,
  });
  const claimed = await claim(app.services.db.submissions, id, { by: 'test-worker', leaseSeconds: 60, now: options.at });
  if (claimed.kind !== 'claimed') throw new Error(`not claimed: ${claimed.kind}`);
  const outputs: Record<string, StoredObject> = {};
  // A protected clip has its clean master and its protected master too (the same small clip stands in for both).
  const made = [['preview', video, 'video/mp4'], ['captionedPreview', video, 'video/mp4'], ['poster', poster, 'image/jpeg'], ['captionsVtt', vtt, 'text/vtt; charset=utf-8'], ...(options.protection ? ([['master', video, 'video/mp4'], ['protectedMaster', video, 'video/mp4']] as const) : [])] as const;
  for (const [name, body, type] of made) {
    const key = `outputs/${id}/${claimed.lease.id}/${name}`;
    await storage.upload(key, body, type);
    outputs[name] = { key, bytes: body.length, sha256: sha(body), contentType: type };
  }
  const done = await settle(app.services.db.submissions, id, claimed.lease.id, { kind: 'done', media: { ...MEDIA, sizeBytes: video.length } as never, outputs }, { by: 'test-worker', now: options.at });
  if (!done) throw new Error('not settled');
  if (options.protection) {
    // The worker's face track: analysed, no face found, its protected preview drawn from it.
    await app.services.db.faceTracks.create({
      _id: new Types.ObjectId(id), detector: { name: 'human-blazeface', version: '3.3.6', settings: {} }, settings: { detectFps: 5, frameFps: 25, margin: 0.5, holdSeconds: 0.5, maxGapSeconds: 0.6 },
      width: 320, height: 240, durationSeconds: 2, masks: [], framesAnalysed: 10, framesWithFaces: 0, version: 1, renderedVersion: 1,
    });
  }
  if (statusToken === null) throw new Error('a token was expected: none was given to createSubmission');
  return { id, statusToken };
}

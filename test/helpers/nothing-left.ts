import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { REVIEW_CLAIMS } from '../../shared/submissions/review-queue';
import { submissionPrefixes } from '../../shared/storage/keys';
import type { Submission } from '../../shared/submissions/submission.model';
import type { Report } from '../../shared/reports/report.model';
import type { TestApp } from './test-env';

/**
 * What a clip's record may keep once the clip is withdrawn and taken down, or rejected and its media gone: what
 * the audit and the tallies need, nothing the contributor wrote. A field of the record not named here is a
 * finding, so a field added to the model has to be decided on.
 */
export const RECORD_KEEPS: Readonly<Record<string, string>> = {
  _id: 'the id the audit entries name',
  __v: 'mongoose',
  campaignId: 'the tallies per campaign',
  status: 'withdrawn or rejected: what happened',
  statusTokenHash: 'a hash: the contributor\'s status page says "withdrawn"',
  country: 'the tallies',
  language: 'the tallies',
  consent: 'which consent text was agreed to, and when (statement ids, no text)',
  protectionRequested: 'the tallies',
  protection: 'what protection was asked (booleans)',
  protectedRender: 'which version of the face masks the protected preview was drawn with (a number and a date)',
  original: 'size and SHA-256 of what arrived (its key leads nowhere any more)',
  subtitles: 'size and SHA-256 of the subtitle file that arrived',
  media: 'the project\'s description (codecs, size, duration): no tags',
  originalDeletedAt: 'the retention record',
  mediaDeletedAt: 'the retention record',
  personalDataClearedAt: 'the retention record',
  takenDownAt: 'the takedown record',
  processing: 'attempts and times',
  release: 'uses, languages and times; its outputs must be empty',
  rejection: 'the moderator\'s reason',
  review: 'the review queue\'s view at the last decision, for an undo: sensitive or not, and the approving staff',
  history: 'the states, who moved them and why (staff ids and reasons)',
  createdAt: 'dates',
  updatedAt: 'dates',
  // Cleared, checked below: kept as empty values (the schema requires them).
  organisation: 'cleared',
  title: 'cleared',
  message: 'cleared',
  contactEmail: 'cleared',
  outputs: 'emptied',
};

/** The contributor's own words and address: empty once the clip is declined. */
export const PERSONAL_FIELDS = ['organisation', 'title', 'message', 'contactEmail'] as const;

/**
 * Everything still held for a submission id, one line each; empty when nothing is left:
 *  - an object under any prefix of the id (originals with tus's `.info` and `.part`, outputs, captions,
 *    releases) or anywhere else in the bucket whose key names the id;
 *  - an open S3 multipart upload for such a key (its parts are stored, and billed, but no listing shows them);
 *  - a caption version, a review-queue entry, a moderator's claim, a face track;
 *  - any of `personal` (the contributor's title, organisation, message, address) in any document of any collection;
 *  - on the record (when `record` is 'declined'): a personal field not cleared, media still recorded, or a field
 *    not in RECORD_KEEPS; when `record` is 'none' (a refused or abandoned upload): any record at all.
 */
export async function whatIsLeft(app: Pick<TestApp, 'services' | 'config'>, id: string, record: 'declined' | 'none', personal: string[] = []): Promise<string[]> {
  const { storage, db } = app.services;
  const left: string[] = [];
  const under = (await Promise.all(submissionPrefixes(id).map((prefix) => storage.list(prefix)))).flat();
  const elsewhere = (await storage.list('')).filter((key) => key.includes(id));
  for (const key of [...new Set([...under, ...elsewhere])].sort()) left.push(`object ${key}`);

  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  do {
    const page = await storage.client.send(new ListMultipartUploadsCommand({ Bucket: app.config.s3.bucket, KeyMarker, UploadIdMarker }));
    for (const upload of page.Uploads ?? []) if (upload.Key?.includes(id)) left.push(`open multipart upload ${upload.Key} (${upload.UploadId ?? ''})`);
    ({ NextKeyMarker: KeyMarker, NextUploadIdMarker: UploadIdMarker } = page.IsTruncated ? page : { NextKeyMarker: undefined, NextUploadIdMarker: undefined });
  } while (KeyMarker || UploadIdMarker);

  const versions = await db.captionVersions.countDocuments({ submissionId: id });
  if (versions > 0) left.push(`${versions} caption versions`);
  if (await db.reviewQueue.exists({ _id: id })) left.push('a review-queue entry');
  const claims = await db.connection.db!.collection(REVIEW_CLAIMS).countDocuments({ submissionId: id });
  if (claims > 0) left.push(`${claims} review claims`);
  if (await db.faceTracks.exists({ _id: id })) left.push('a face track');

  // What the contributor wrote (its title, organisation, message, address), in any document of any collection:
  // the delivery log, the audit, the queue… keep ids and facts, not the words.
  if (personal.length > 0) {
    const database = db.connection.db!;
    for (const { name } of await database.listCollections().toArray()) {
      for (const document of await database.collection(name).find().toArray()) {
        const text = JSON.stringify(document);
        for (const value of personal) if (text.includes(value)) left.push(`${name} ${String(document._id)} holds "${value}"`);
      }
    }
  }

  const doc = await db.submissions.findById(id).lean<Submission & Record<string, unknown>>();
  if (record === 'none') {
    if (doc) left.push(`a submission record (${doc.status})`);
    return left;
  }
  if (!doc) return [...left, 'no submission record (the audit needs it)'];
  for (const field of Object.keys(doc)) if (!Object.hasOwn(RECORD_KEEPS, field)) left.push(`record field ${field}`);
  for (const field of PERSONAL_FIELDS) {
    const value = doc[field];
    if (value !== '' && value !== null && value !== undefined) left.push(`record ${field}: ${JSON.stringify(value)}`);
  }
  if (!doc.personalDataClearedAt) left.push('record: personalDataClearedAt not set');
  if (Object.keys(doc.outputs ?? {}).length > 0) left.push(`record outputs: ${Object.keys(doc.outputs).join(', ')}`);
  if (doc.release && Object.keys(doc.release.outputs ?? {}).length > 0) left.push(`record release outputs: ${Object.keys(doc.release.outputs).join(', ')}`);
  if (!doc.originalDeletedAt) left.push('record: originalDeletedAt not set');
  return left;
}

/** The "nothing left" check every deletion test makes: see whatIsLeft (`personal`: the contributor's own words, searched for everywhere). */
export async function expectNothingLeft(app: Pick<TestApp, 'services' | 'config'>, id: string, record: 'declined' | 'none', personal: string[] = []): Promise<void> {
  expect(await whatIsLeft(app, id, record, personal)).toEqual([]);
}

// ——— Action reports (issue 18) ———

/**
 * What an action report's record may keep once withdrawn: the audit's and the history's needs, nothing its
 * sender wrote (city, organisation, partners, text are cleared; photos and their objects gone).
 */
export const REPORT_RECORD_KEEPS: Readonly<Record<string, string>> = {
  _id: 'the id the audit entries name',
  __v: 'mongoose',
  campaignId: 'which campaign',
  status: 'withdrawn',
  statusTokenHash: 'a hash: the status page says "withdrawn"',
  linkId: 'which union link (an id, no token)',
  language: 'the page\'s language',
  kind: 'the kind of action (a campaign id)',
  date: 'the day of action',
  startTime: 'an hour of that day',
  country: 'a country code',
  participants: 'a range',
  consent: 'which consent text was agreed to, and when (statement ids, no text)',
  photosExpected: 'a number',
  photos: 'emptied',
  photosRev: 'a counter',
  rejection: 'the moderator\'s reason',
  talliedAs: 'null: no longer counted',
  decidedAt: 'dates',
  personalDataClearedAt: 'the retention record',
  history: 'the states, who moved them and why',
  createdAt: 'dates',
  updatedAt: 'dates',
  city: 'cleared',
  organisation: 'cleared',
  partners: 'cleared',
  text: 'cleared',
};

export function reportRecordProblems(report: (Report & Record<string, unknown>) | null): string[] {
  if (!report) return ['no report record (the audit needs it)'];
  const problems: string[] = [];
  for (const field of Object.keys(report)) if (!Object.hasOwn(REPORT_RECORD_KEEPS, field)) problems.push(`record field ${field}`);
  for (const field of ['city', 'organisation', 'partners', 'text'] as const) if (report[field] !== '') problems.push(`record ${field}: ${JSON.stringify(report[field])}`);
  if (report.photos.length > 0) problems.push(`${report.photos.length} photos recorded`);
  if (report.talliedAs) problems.push('still tallied');
  if (!report.personalDataClearedAt) problems.push('personalDataClearedAt not set');
  return problems;
}

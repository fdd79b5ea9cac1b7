import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { updateCampaign } from '../../server/services/campaign-admin.service';
import { CLI_ACTOR } from '../../server/services/campaign.service';
import { reportPrefix } from '../../shared/storage/keys';
import { structureProblems } from './image-structure';
import { corners, phonePhoto, PLACE, QUADRANTS, quadrantsRaw, SECRET } from './photos';
import { PHOTO_CHECKS } from '../../shared/reports/report.model';
import { seedDemoCampaign, type TestApp } from './test-env';

/** Action reports in tests (issue 18): a campaign that takes them, a report sent as the page sends it, and the checks of what is stored. */

export const ACTION_DAYS = ['2027-03-27', '2027-03-28'];

/** The demo campaign under its own slug, open, with two days of action. */
export async function seedReportCampaign(app: Pick<TestApp, 'deps'>, slug: string) {
  const campaign = await seedDemoCampaign(app.deps, { slug });
  await updateCampaign(app.deps.db, slug, { actionDays: ACTION_DAYS }, new Date(), CLI_ACTOR);
  return campaign;
}

export function reportFields(campaign: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    campaign,
    language: 'en',
    kind: 'embassy_protest',
    date: ACTION_DAYS[0],
    startTime: '11:30',
    city: 'Vilnius',
    country: 'LT',
    participants: '10-49',
    organisation: 'Lithuanian Trade Union of Test Workers',
    partners: 'Friends of the test',
    text: 'We stood outside the embassy with banners.',
    consent: { version: 1, language: 'en', statements: ['record', 'publish', 'risk'] },
    photos: 0,
    ...overrides,
  };
}

export interface SentReport {
  id: string;
  token: string;
}

/** A report's fields as the page sends them: with a status token it made itself (only the hash travels). */
export async function createReportViaApi(app: Pick<TestApp, 'baseUrl'>, fields: Record<string, unknown>, token = randomBytes(32).toString('base64url')) {
  const response = await fetch(`${app.baseUrl}/api/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...fields, statusTokenHash: createHash('sha256').update(token).digest('hex') }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, token };
}

export async function putPhoto(app: Pick<TestApp, 'baseUrl'>, report: SentReport, slot: number, bytes: Buffer) {
  const response = await fetch(`${app.baseUrl}/api/reports/${report.id}/photos/${slot}`, { method: 'PUT', headers: { authorization: `Bearer ${report.token}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function reportCall(app: Pick<TestApp, 'baseUrl'>, report: SentReport, path: 'submit' | 'status' | 'withdraw') {
  const response = await fetch(`${app.baseUrl}/api/reports/${report.id}/${path}`, { method: path === 'status' ? 'GET' : 'POST', headers: { authorization: `Bearer ${report.token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A whole report: fields, each photo, submit. */
export async function sendReport(app: Pick<TestApp, 'baseUrl'>, fields: Record<string, unknown>, photos: Buffer[] = []): Promise<SentReport> {
  const created = await createReportViaApi(app, { ...fields, photos: photos.length });
  if (created.status !== 202) throw new Error(`report refused: ${JSON.stringify(created.body)}`);
  const report = { id: String(created.body.id), token: created.token };
  for (const [slot, photo] of photos.entries()) {
    const sent = await putPhoto(app, report, slot, photo);
    if (sent.status !== 201) throw new Error(`photo refused: ${JSON.stringify(sent.body)}`);
  }
  const submitted = await reportCall(app, report, 'submit');
  if (submitted.status !== 200) throw new Error(`submit refused: ${JSON.stringify(submitted.body)}`);
  return report;
}

async function bytesOf(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const near = (a: readonly number[], b: readonly number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= 30);

/**
 * What is wrong with an image as stored or served (empty when it is clean and upright): the bytes walked
 * (only the segments or chunks a clean picture needs, nothing after its end), none of the test photos'
 * secrets anywhere in it, and the four quadrants where they belong.
 */
export async function imageProblems(bytes: Buffer, upright = true): Promise<string[]> {
  const problems = structureProblems(bytes);
  const text = bytes.toString('latin1');
  for (const secret of [SECRET, PLACE, 'Exif', 'http://ns.adobe.com', 'Photoshop']) if (text.includes(secret)) problems.push(`holds "${secret}"`);
  if (upright) {
    const c = await corners(bytes);
    for (const corner of ['topLeft', 'topRight', 'bottomLeft', 'bottomRight'] as const) if (!near(c[corner], QUADRANTS[corner])) problems.push(`${corner} is ${c[corner].join(',')}`);
  }
  return problems;
}

/** Every object stored for a report, with its problems. */
export async function storedPhotoProblems(app: Pick<TestApp, 'services'>, reportId: string): Promise<{ keys: string[]; problems: string[] }> {
  const keys = await app.services.storage.list(reportPrefix(reportId));
  const problems: string[] = [];
  for (const key of keys) for (const problem of await imageProblems(await bytesOf(await app.services.storage.download(key)))) problems.push(`${key}: ${problem}`);
  return { keys, problems };
}


export { REPORT_RECORD_KEEPS, reportRecordProblems } from './nothing-left';

/**
 * A report in review in `slug` (days of action set on the campaign first if it has none), with `photos` small
 * phone photos: for the staff tests (matrix, audit).
 */
export async function reportInReview(app: Pick<TestApp, 'baseUrl' | 'deps'>, slug = 'demo', photos = 1): Promise<SentReport & { photoIds: string[] }> {
  const campaign = await app.deps.db.campaigns.findOne({ slug }).lean();
  if (!campaign?.actionDays?.length) await updateCampaign(app.deps.db, slug, { actionDays: ACTION_DAYS }, new Date(), CLI_ACTOR);
  const picture = await phonePhotoCached();
  const sent = await sendReport(app, reportFields(slug), Array.from({ length: photos }, () => picture));
  const stored = await app.deps.db.reports.findById(sent.id).lean();
  return { ...sent, photoIds: (stored?.photos ?? []).map((p) => p.id) };
}

let cachedPhoto: Promise<Buffer> | null = null;
function phonePhotoCached(): Promise<Buffer> {
  cachedPhoto ??= phonePhoto(quadrantsRaw(120, 90), 6);
  return cachedPhoto;
}

/** The checklist answered "clear" for every photo (the approve form's fields). */
export function clearChecklist(photoIds: string[]): Record<string, string> {
  return Object.fromEntries(photoIds.flatMap((id) => PHOTO_CHECKS.map((check) => [`${id}-${check}`, 'clear'])));
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Types } from 'mongoose';
import { STATE_DESCRIPTIONS } from '../../shared/submissions/submission-states';
import { AppError, databaseUnavailable, isDatabaseUnavailable, isDuplicateKey, queueUnavailable } from '../../shared/errors';
import { initialProcessing } from '../../shared/submissions/processing';
import type { StoredObject, Submission, SubmissionConsent } from '../../shared/submissions/submission.model';
import type { ServerDeps } from '../deps';
import { currentConsent, findOpenCampaign, findUnionLink } from './campaign.service';
import type { Campaign } from '../../shared/models/campaign.model';
import { submissionPrefixes } from '../../shared/storage/keys';
import { withdrawSubmission as withdrawClip } from './withdrawal.service';
import { isProtected, type ProtectionChoice } from '../../shared/protection/protection';

/** What a contributor sends: the submission's own fields, the campaign's slug, and the consent given. */
export type SubmissionInput = Pick<Submission, 'organisation' | 'country' | 'language' | 'title' | 'message' | 'contactEmail'> & {
  /** Identity protection asked for on the form (all false: none). */
  protection?: ProtectionChoice;
  campaign: string;
  consent: Omit<SubmissionConsent, 'givenAt'>;
  /** A union link's token: its organisation and country replace what was sent. */
  link?: string;
};

/** The campaign's checks a submission must pass, at the start of an upload and again at its end. */
export function checkSubmissionInput(campaign: Campaign, input: SubmissionInput): SubmissionInput {
  checkConsent(campaign, input.consent);
  if (!input.link) return input;
  const link = findUnionLink(campaign, input.link);
  return { ...input, organisation: link.organisation, country: link.country };
}

type Deps = Pick<ServerDeps, 'db' | 'queue' | 'storage' | 'logger' | 'now'>;

export function hashStatusToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Checks that the contributor agreed to every statement of the campaign's current consent text. */
export function checkConsent(campaign: Parameters<typeof currentConsent>[0], consent: SubmissionInput['consent']): void {
  const current = currentConsent(campaign);
  if (consent.version !== current.version) {
    throw new AppError(
      'consent_outdated',
      409,
      'The consent text has changed since this page was opened. Please reload the page and read it again.',
      { details: { currentVersion: current.version } },
    );
  }
  const text = current.texts.find((t) => t.language === consent.language);
  if (!text) {
    throw new AppError('consent_language_unknown', 400, `The consent text is not available in "${consent.language}".`, {
      details: { languages: current.texts.map((t) => t.language) },
    });
  }
  const agreed = new Set(consent.statements);
  // Optional statements (a use the contributor may refuse, consent-scopes.ts) may be left out.
  const missing = text.statements.filter((s) => !s.optional && !agreed.has(s.id)).map((s) => s.id);
  const unknown = consent.statements.filter((id) => !text.statements.some((s) => s.id === id));
  if (missing.length > 0 || unknown.length > 0) {
    throw new AppError('consent_incomplete', 400, 'Every required consent statement must be agreed to before a clip can be sent.', {
      details: { missing, unknown },
    });
  }
}

/**
 * Records an uploaded clip and queues it. The objects are already in S3; if anything here fails, a document
 * written here is removed again, and the caller removes the objects (the multipart API) or keeps them to run
 * this again (a resumable upload's finish): idempotent for one id.
 */
export async function createSubmission(
  deps: Deps,
  params: {
    id: string;
    input: SubmissionInput;
    video: StoredObject;
    subtitles: StoredObject | null;
    /** A resumable upload's page made the token itself and sent only its hash (the token never leaves the device). */
    statusTokenHash?: string;
  },
): Promise<{ id: string; statusToken: string | null }> {
  const { db, queue, now } = deps;
  const { id } = params;
  const campaign = await findOpenCampaign(db, params.input.campaign, now());
  const input = checkSubmissionInput(campaign, params.input);

  const statusToken = params.statusTokenHash ? null : randomBytes(32).toString('base64url');
  const doc: Omit<Submission, 'createdAt' | 'updatedAt'> = {
    _id: new Types.ObjectId(id),
    campaignId: campaign._id,
    status: 'received',
    statusTokenHash: statusToken === null ? params.statusTokenHash! : hashStatusToken(statusToken),
    organisation: input.organisation,
    country: input.country,
    language: input.language,
    title: input.title,
    message: input.message,
    contactEmail: input.contactEmail,
    // Any protection asked for makes the clip sensitive (two moderators approve it).
    protectionRequested: isProtected(input.protection),
    protection: isProtected(input.protection) ? { ...input.protection!, by: 'contributor', at: now() } : null,
    consent: { ...input.consent, givenAt: now() },
    original: params.video,
    originalDeletedAt: null,
    release: null,
    takenDownAt: null,
    subtitles: params.subtitles,
    media: null,
    outputs: {},
    processing: initialProcessing(),
    rejection: null,
    history: [],
  };
  // The id is the upload's: a second run for the same upload (its first failed part-way, or ran at the same
  // time) finds the document the first one wrote (a unique _id insert is atomic) and makes no second one.
  let created = true;
  try {
    await db.submissions.create(doc);
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw databaseUnavailable(error);
    if (!isDuplicateKey(error)) throw error;
    created = false;
  }
  if (!created) {
    const existing = await db.submissions.findById(doc._id, { status: 1 }).lean<Pick<Submission, 'status'>>().catch((error: unknown) => {
      throw isDatabaseUnavailable(error) ? databaseUnavailable(error) : error;
    });
    // Past `received`, its job ran; else it is queued again (the job id is the submission's: never twice).
    if (existing && existing.status !== 'received') return { id, statusToken };
  }

  try {
    await queue.enqueue('process-submission', { submissionId: id });
  } catch (error) {
    // Only the run that wrote the document removes it (and only then is the clip's upload refused or retried whole).
    if (created) {
      await db.submissions.deleteOne({ _id: doc._id }).catch((cleanupError: unknown) => {
        deps.logger.error({ err: cleanupError, submissionId: id }, 'could not remove the submission after the queue failed');
      });
    }
    throw queueUnavailable(error);
  }
  return { id, statusToken };
}

function notFound(): AppError {
  return new AppError('submission_not_found', 404, 'No submission matches this id and status token.');
}

/** The submission whose status token this is; the same answer for an unknown id and a wrong token. */
async function findOwn(deps: Pick<Deps, 'db'>, id: string, statusToken: string): Promise<Submission> {
  if (!Types.ObjectId.isValid(id) || !/^[a-f0-9]{24}$/.test(id)) throw notFound();
  let submission: Submission | null;
  try {
    submission = await deps.db.submissions.findById(id).lean<Submission>();
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw databaseUnavailable(error);
    throw error;
  }
  const expected = Buffer.from(submission?.statusTokenHash ?? '0'.repeat(64), 'hex');
  const given = Buffer.from(hashStatusToken(statusToken), 'hex');
  // Same answer, in constant time, for an unknown id and a wrong token: the endpoint tells nothing to a guesser.
  if (!submission || !timingSafeEqual(expected, given)) throw notFound();
  return submission;
}

/** A submission's status for its contributor, who proves it is theirs with the status token. */
export async function getSubmissionStatus(deps: Pick<Deps, 'db'>, id: string, statusToken: string) {
  return statusOf(await findOwn(deps, id, statusToken));
}

/**
 * The contributor withdraws consent: the submission is withdrawn (from any state; a worker on it loses
 * its lease), audited, and taken down (withdrawal.service.ts: the takedown job, the withdrawal webhook);
 * every object of it is also removed from S3 at once (the takedown job, which removes whatever a failure
 * here left, records `originalDeletedAt` as for a moderator's withdrawal). Withdrawing twice changes nothing.
 */
export async function withdrawSubmission(deps: Deps, id: string, statusToken: string) {
  await findOwn(deps, id, statusToken);
  const withdrawn = await withdrawClip(deps, id, { actor: { id: null, email: null }, by: 'contributor', reason: 'consent withdrawn by the contributor' });
  for (const prefix of submissionPrefixes(id)) {
    const keys = await deps.storage.list(prefix).catch(() => [] as string[]);
    await Promise.all(keys.map((key) => deps.storage.remove(key).catch((error: unknown) => deps.logger.error({ err: error, submissionId: id }, 'could not remove an object of a withdrawn clip'))));
  }
  return statusOf(withdrawn);
}

function statusOf(submission: Submission) {
  return {
    id: submission._id.toHexString(),
    status: submission.status,
    description: STATE_DESCRIPTIONS[submission.status],
    progress: submission.status === 'processing' ? submission.processing.progress : null,
    rejection: submission.rejection ? { code: submission.rejection.code, reason: submission.rejection.reason } : null,
    // Cleared with a withdrawn or rejected clip's media: the page then names no title.
    title: submission.personalDataClearedAt ? null : submission.title,
    receivedAt: submission.createdAt,
    updatedAt: submission.updatedAt,
  };
}

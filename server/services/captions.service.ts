import { AppError } from '../../shared/errors';
import { addCaptionVersion, CAPTION_LANGUAGE, contributorCues, removeCaptionVersions, findCaptionVersion, latestCaptionVersions, listCaptionVersions, type CaptionCue, type CaptionVersion } from '../../shared/captions/caption-versions';
import type { Submission } from '../../shared/submissions/submission.model';
// The subtitle readers are pure modules shared with the worker: an upload here is read exactly as the
// contributor's file is (decoding, validation, markup stripping), and the editor's rows the same way.
import { decodeSubtitleBytes, SubtitleEncodingError } from '../../shared/subtitles/decode-text';
import { checkCues, CueEditError, cuesFromRows, describeProblem, type CueProblem, type CueRow } from '../../shared/subtitles/cue-edits';
import { parseSubtitles, SubtitleParseError } from '../../shared/subtitles/subtitles';
import type { ServerDeps } from '../deps';
import { appendAudit } from './audit.service';
import { openReview, type Moderator, type ReviewView } from './review.service';

/**
 * Moderators' captions: read a clip's caption tracks (the contributor's subtitles, then numbered versions
 * per language), save an edit or a translation typed in the editor, or an uploaded SRT/WebVTT file, as a
 * new version — and queue the re-render of the captioned review preview (worker/handlers/caption-preview
 * .handler.ts). No state of the clip changes, so its claim and any approval vote stay as they are. Edits are
 * for clips in review, by whoever holds the claim (or anyone, when nobody does), like a decision.
 */

type Deps = Pick<ServerDeps, 'db' | 'storage' | 'queue' | 'now' | 'logger'> & { claimSeconds: number };

export interface CaptionTrackSummary {
  language: string;
  /** The latest version, or null: only the contributor's own subtitles (not yet edited). */
  latest: Omit<CaptionVersion, 'cues'> | null;
}

export interface CaptionsView extends ReviewView {
  language: string;
  tracks: CaptionTrackSummary[];
  /** The versions of `language`, oldest first. */
  versions: Array<Omit<CaptionVersion, 'cues'>>;
  /** What is shown: a version (null: the contributor's subtitles, or a new language being typed). */
  shown: { version: number | null; cues: CaptionCue[]; latest: boolean };
  /** A new language typed from another one: its cues, whose text is to be translated. */
  template: { from: string; cues: CaptionCue[] } | null;
  /** Why the captions cannot be edited now (null: they can). */
  locked: 'status' | 'claimed' | null;
  durationMs: number;
}

const invalidLanguage = () => new AppError('captions_language_invalid', 400, 'A caption language is a code like "en", "be" or "pt-br".');

function durationOf(submission: Submission): number {
  const seconds = submission.media?.durationSeconds;
  if (!seconds || !submission.outputs.preview) throw new AppError('captions_no_preview', 409, 'This clip has no preview yet, so it cannot be captioned.');
  return Math.round(seconds * 1000);
}

const contributorLanguage = (submission: Submission) => submission.language.toLowerCase();

function lockOf(view: ReviewView, me: Moderator): CaptionsView['locked'] {
  if (view.submission.status !== 'in_review') return 'status';
  if (view.claim && view.claim.by !== me.id) return 'claimed';
  return null;
}

/** The captions page: a language's current cues (or an older version, or a template for a new language). */
export async function openCaptions(deps: Deps, me: Moderator, id: string, query: { language?: string; version?: number; from?: string }): Promise<CaptionsView> {
  const view = await openReview(deps, me, id);
  const { submission } = view;
  const durationMs = durationOf(submission);
  const all = await listCaptionVersions(deps.db.captionVersions, submission._id);
  const own = contributorLanguage(submission);
  const hasOwn = Boolean(submission.outputs.captionsSrt ?? submission.outputs.captionsVtt);
  const languages = [...new Set([...(hasOwn ? [own] : []), ...all.map((v) => v.language)])];
  const tracks = languages.map((language) => ({ language, latest: all.filter((v) => v.language === language).at(-1) ?? null }));
  const language = query.language ?? languages[0] ?? own;
  if (!CAPTION_LANGUAGE.test(language)) throw invalidLanguage();
  const versions = all.filter((v) => v.language === language);
  const latestNumber = versions.at(-1)?.version ?? null;

  let shown: CaptionsView['shown'];
  if (query.version !== undefined) {
    const found = await findCaptionVersion(deps.db.captionVersions, submission._id, language, query.version);
    if (!found) throw new AppError('captions_version_not_found', 404, `There is no version ${query.version} of the ${language} captions.`);
    shown = { version: found.version, cues: found.cues, latest: found.version === latestNumber };
  } else if (latestNumber !== null) {
    const found = await findCaptionVersion(deps.db.captionVersions, submission._id, language, latestNumber);
    shown = { version: latestNumber, cues: found?.cues ?? [], latest: true };
  } else {
    shown = { version: null, cues: language === own ? ((await contributorCues(deps.storage, submission)) ?? []) : [], latest: true };
  }

  let template: CaptionsView['template'] = null;
  if (shown.cues.length === 0 && query.from && query.from !== language) {
    if (!CAPTION_LANGUAGE.test(query.from)) throw invalidLanguage();
    const latest = (await latestCaptionVersions(deps.db.captionVersions, submission._id)).find((v) => v.language === query.from);
    const cues = latest?.cues ?? (query.from === own ? await contributorCues(deps.storage, submission) : null);
    if (!cues) throw new AppError('captions_template_missing', 404, `There are no ${query.from} captions to translate from.`);
    template = { from: query.from, cues };
  }
  return { ...view, language, tracks, versions, shown, template, locked: lockOf(view, me), durationMs };
}

function invalid(problems: CueProblem[]): AppError {
  return new AppError('captions_invalid', 400, `The captions were not saved: ${problems.map(describeProblem).join('; ')}.`, { details: { problems } });
}

const notEditable = (status: string) =>
  new AppError('submission_state_conflict', 409, `This clip is "${status}" now: its captions can be edited while it is in review.`, { details: { status } });

async function checkEditable(deps: Deps, me: Moderator, id: string, language: string): Promise<{ view: ReviewView; durationMs: number }> {
  if (!CAPTION_LANGUAGE.test(language)) throw invalidLanguage();
  const view = await openReview(deps, me, id);
  const locked = lockOf(view, me);
  if (locked === 'status') throw notEditable(view.submission.status);
  if (locked === 'claimed') throw new AppError('claimed_by_other', 409, 'Another moderator is reviewing this clip.', { details: { email: view.claim!.email, until: view.claim!.expiresAt.toISOString() } });
  return { view, durationMs: durationOf(view.submission) };
}

async function store(deps: Deps, me: Moderator, view: ReviewView, input: { language: string; cues: CaptionCue[]; source: CaptionVersion['source']; from: string | null }): Promise<CaptionVersion> {
  const { submission } = view;
  const baseline = input.language === contributorLanguage(submission) ? await contributorCues(deps.storage, submission) : null;
  const now = deps.now();
  const saved = await addCaptionVersion(deps.db.captionVersions, { submissionId: submission._id, ...input, author: { id: me.id, email: me.email }, now, baseline });
  const id = submission._id.toHexString();
  // Withdrawn between the check and the save: its takedown may have deleted the versions already, so this one goes too.
  const status = (await deps.db.submissions.findById(submission._id).select({ status: 1 }).lean<Pick<Submission, 'status'>>())?.status ?? 'withdrawn';
  if (status === 'withdrawn') {
    await removeCaptionVersions(deps.db.captionVersions, submission._id);
    throw notEditable(status);
  }
  // Approved (or rejected) between the check and the save: the decision was taken on what was saved before
  // it, so this save (and the contributor's version 1 it may have added) goes and is refused. The release
  // also reads only versions stamped no later than the approval (caption-versions.ts, approvedAt).
  if (status !== 'in_review') {
    await deps.db.captionVersions.deleteMany({ submissionId: submission._id, language: input.language, createdAt: now });
    throw notEditable(status);
  }
  await appendAudit(deps.db, { actor: { id: me.id, email: me.email }, action: 'captions_saved', target: { kind: 'submission', id }, details: { language: input.language, version: saved.version, source: input.source, cues: input.cues.length } }, now);
  // Should the enqueue fail, the version stands; the page shows its preview as not rendered.
  await deps.queue.enqueue('caption-preview', { captionVersionId: saved._id.toHexString() }).catch((error: unknown) => {
    deps.logger.warn({ err: error, submissionId: id }, 'caption preview not queued');
  });
  return saved;
}

/** Saves the editor's rows as the next version of a language (a translation when `from` is given). */
export async function saveCaptionRows(deps: Deps, me: Moderator, id: string, input: { language: string; rows: CueRow[]; from: string | null }): Promise<CaptionVersion> {
  const { view, durationMs } = await checkEditable(deps, me, id, input.language);
  let cues: CaptionCue[];
  try {
    cues = cuesFromRows(input.rows, durationMs);
  } catch (error) {
    if (error instanceof CueEditError) throw invalid(error.problems);
    throw error;
  }
  const source = input.from && input.from !== input.language ? 'translation' : 'edit';
  return store(deps, me, view, { language: input.language, cues, source, from: source === 'translation' ? input.from : null });
}

/** Saves an uploaded SRT or WebVTT file as the next version of a language: read exactly as an upload's subtitles. */
export async function uploadCaptionFile(deps: Deps, me: Moderator, id: string, input: { language: string; bytes: Buffer }): Promise<CaptionVersion> {
  const { view, durationMs } = await checkEditable(deps, me, id, input.language);
  let cues: CaptionCue[];
  try {
    cues = checkCues(parseSubtitles(decodeSubtitleBytes(input.bytes, input.language).text), durationMs);
  } catch (error) {
    if (error instanceof SubtitleParseError) throw new AppError('captions_file_invalid', 400, `The subtitle file could not be read at ${error.message}.`, { details: { line: error.line, problem: error.message } });
    if (error instanceof SubtitleEncodingError) throw new AppError('captions_file_invalid', 400, error.message, { details: { problem: error.message } });
    if (error instanceof CueEditError) throw invalid(error.problems);
    throw error;
  }
  return store(deps, me, view, { language: input.language, cues, source: 'upload', from: null });
}

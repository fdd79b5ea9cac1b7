import { buffer } from 'node:stream/consumers';
import { Schema, Types, type Connection, type Model } from 'mongoose';
import type { ObjectStorage } from '../storage/object-storage';
import type { StoredObject, Submission } from '../submissions/submission.model';
import { parseSubtitles } from '../subtitles/subtitles';

/**
 * Caption tracks edited by moderators, per clip and language, as numbered versions: every save adds a
 * version, none is changed or removed (but for its rendered preview), so earlier ones stay readable. The
 * contributor's own subtitles are version 1 of their language once anyone edits it; until then they are
 * the clip's `captionsSrt` output. The release renders use the latest version of each language saved
 * before the approval (`approvedAt`): what the approving moderator could have seen. A save that lands after
 * the approval is refused and removed by the save itself (server/services/captions.service.ts); the
 * release's own cut-off covers a save that the approval overtakes between its insert and that check.
 *
 * One document per version, so a document stays bounded (at most 5000 cues of at most 1000 characters:
 * the subtitle limits). Numbers are taken by inserting `version` = latest + 1 under a unique index, which
 * both databases refuse atomically for all but one of two racing saves (FerretDB's updates are not atomic).
 */

/**
 * A caption language code as the release accepts it ("be", "pt-br", "sr-latn-rs"): it becomes part of file
 * and output names. Every contributor's language (a BCP 47 tag, lower-cased) of up to five parts and 27
 * characters fits, so their own subtitles can be released; 27 keeps the longest output name,
 * `captions-<language>-srt`, within the 40 characters the gallery's download route takes.
 */
export const CAPTION_LANGUAGE = /^(?=.{2,27}$)[a-z]{2,3}(-[a-z0-9]{2,8}){0,4}$/;
/**
 * A language code as a contributor, a consent text or a campaign gives it: the same expression in any case
 * (the release lower-cases it), so every language an upload is accepted with can name its captions. A
 * longer one, sent with subtitles, could never be released.
 */
export const LANGUAGE_CODE = new RegExp(CAPTION_LANGUAGE.source, 'i');
/** What a refusal of a language code says. */
export const LANGUAGE_CODE_LIMITS = 'at most five parts and 27 characters';
/** The same, as an HTML `pattern` attribute (anchored by the browser). */
export const CAPTION_LANGUAGE_PATTERN = CAPTION_LANGUAGE.source.slice(1, -1);

export const CAPTION_SOURCES = ['contributor', 'edit', 'upload', 'translation'] as const;
export type CaptionSource = (typeof CAPTION_SOURCES)[number];

export interface CaptionCue {
  startMs: number;
  endMs: number;
  text: string;
}

export interface CaptionVersion {
  _id: Types.ObjectId;
  submissionId: Types.ObjectId;
  language: string;
  version: number;
  cues: CaptionCue[];
  source: CaptionSource;
  /** A translation's template language. */
  from: string | null;
  /** Who saved it (null for the contributor's own subtitles). */
  author: { id: string | null; email: string | null };
  createdAt: Date;
  /** The review preview with these captions burned in (caption-preview job); null until rendered. */
  preview: StoredObject | null;
  previewError: string | null;
  /** How many times its preview was drawn again because the picture under it changed (a protected clip's masks). */
  previewRender?: number;
}

const storedObject = new Schema<StoredObject>(
  { key: { type: String, required: true }, bytes: { type: Number, required: true }, sha256: { type: String, required: true }, contentType: { type: String, required: true } },
  { _id: false },
);

const captionVersionSchema = new Schema<CaptionVersion>(
  {
    submissionId: { type: Schema.Types.ObjectId, required: true },
    language: { type: String, required: true },
    version: { type: Number, required: true },
    cues: {
      type: [new Schema<CaptionCue>({ startMs: { type: Number, required: true }, endMs: { type: Number, required: true }, text: { type: String, required: true } }, { _id: false })],
      required: true,
    },
    source: { type: String, enum: CAPTION_SOURCES, required: true },
    from: { type: String, default: null },
    author: { type: new Schema({ id: { type: String, default: null }, email: { type: String, default: null } }, { _id: false }), required: true },
    createdAt: { type: Date, required: true },
    preview: { type: storedObject, default: null },
    previewError: { type: String, default: null },
    previewRender: { type: Number, default: 0 },
  },
  { collection: 'caption_versions', strict: 'throw' },
);

captionVersionSchema.index({ submissionId: 1, language: 1, version: 1 }, { unique: true });
// The reconciler: versions whose preview was neither made nor given up on.
captionVersionSchema.index({ preview: 1, previewError: 1, createdAt: 1 });

export type CaptionVersionModel = Model<CaptionVersion>;

export function captionVersionModel(connection: Connection): CaptionVersionModel {
  return connection.model<CaptionVersion>('CaptionVersion', captionVersionSchema);
}

type Id = Types.ObjectId | string;

/**
 * The contributor's own subtitles as the worker stored them (clean SRT, or WebVTT), read again (the same
 * validation and markup stripping as an upload), or null when they sent none. The editor shows them until
 * someone edits their language; the release uses them for it until then.
 */
export async function contributorCues(storage: Pick<ObjectStorage, 'download'>, submission: Pick<Submission, 'outputs'>): Promise<CaptionCue[] | null> {
  const stored = submission.outputs.captionsSrt ?? submission.outputs.captionsVtt;
  if (!stored) return null;
  return parseSubtitles((await buffer(await storage.download(stored.key))).toString('utf8'));
}
const oid = (id: Id) => (typeof id === 'string' ? new Types.ObjectId(id) : id);

/** Every version of a clip's captions without their cues (a list to show), by language then number. */
export async function listCaptionVersions(model: CaptionVersionModel, submissionId: Id): Promise<Array<Omit<CaptionVersion, 'cues'>>> {
  const found = await model.find({ submissionId: oid(submissionId) }).select({ cues: 0 }).lean<Array<Omit<CaptionVersion, 'cues'>>>();
  // Sorted here: a clip has few versions, and FerretDB would sort them itself anyway.
  return found.sort((a, b) => a.language.localeCompare(b.language) || a.version - b.version);
}

export function findCaptionVersion(model: CaptionVersionModel, submissionId: Id, language: string, version: number): Promise<CaptionVersion | null> {
  return model.findOne({ submissionId: oid(submissionId), language, version }).lean<CaptionVersion>().exec();
}

/** The latest version of each language of a clip (with cues); with `savedBy`, among those saved by then. */
export async function latestCaptionVersions(model: CaptionVersionModel, submissionId: Id, savedBy?: Date): Promise<CaptionVersion[]> {
  const list = (await listCaptionVersions(model, submissionId)).filter((v) => !savedBy || v.createdAt.getTime() <= savedBy.getTime());
  const latest = new Map<string, number>();
  for (const v of list) latest.set(v.language, Math.max(latest.get(v.language) ?? 0, v.version));
  const found = await Promise.all([...latest].map(([language, version]) => findCaptionVersion(model, submissionId, language, version)));
  return found.filter((v): v is CaptionVersion => v !== null);
}

const isDuplicate = (error: unknown) => (error as { code?: number }).code === 11000;

/**
 * Adds the next version of a language. With `baseline` (the contributor's subtitles), a language that has
 * no version yet first gets them as version 1, so the edit that follows never hides them.
 */
export async function addCaptionVersion(
  model: CaptionVersionModel,
  input: Pick<CaptionVersion, 'language' | 'cues' | 'source' | 'from' | 'author'> & { submissionId: Id; now: Date; baseline?: CaptionCue[] | null },
): Promise<CaptionVersion> {
  const submissionId = oid(input.submissionId);
  for (let tries = 0; tries < 8; tries += 1) {
    const latest = await model.find({ submissionId, language: input.language }).select({ version: 1 }).lean<Array<Pick<CaptionVersion, 'version'>>>();
    let next = Math.max(0, ...latest.map((v) => v.version)) + 1;
    try {
      if (next === 1 && input.baseline) {
        await model.create({ submissionId, language: input.language, version: 1, cues: input.baseline, source: 'contributor', from: null, author: { id: null, email: null }, createdAt: input.now, preview: null, previewError: null });
        next = 2;
      }
      const created = await model.create({ submissionId, language: input.language, version: next, cues: input.cues, source: input.source, from: input.from, author: input.author, createdAt: input.now, preview: null, previewError: null });
      return created.toObject<CaptionVersion>();
    } catch (error) {
      if (!isDuplicate(error)) throw error;
      // Another save took that number: read again and take the next one.
    }
  }
  throw new Error('caption version not saved: too many saves at once');
}

/** Records a version's rendered preview (or why it failed). */
export async function recordCaptionPreview(model: CaptionVersionModel, versionId: Id, result: { preview: StoredObject } | { error: string }): Promise<void> {
  const set = 'preview' in result ? { preview: result.preview, previewError: null } : { previewError: result.error.slice(0, 2000) };
  await model.updateOne({ _id: oid(versionId) }, { $set: set });
}

/** Versions saved before `before` whose captioned preview was neither made nor given up on (a lost job), for the reconciler. */
export function findCaptionPreviewsPending(model: CaptionVersionModel, before: Date, limit: number): Promise<Array<Pick<CaptionVersion, '_id' | 'previewRender'>>> {
  return model.find({ preview: null, previewError: null, createdAt: { $lt: before } }).limit(limit).select({ _id: 1, previewRender: 1 }).lean<Array<Pick<CaptionVersion, '_id' | 'previewRender'>>>().exec();
}

/** When a clip was approved (its latest approval), or null: the cut-off for the captions its release uses. */
export function approvedAt(submission: Pick<Submission, 'history'>): Date | null {
  const approval = [...submission.history].reverse().find((entry) => entry.transition === 'approved');
  return approval ? new Date(approval.at) : null;
}

/**
 * Deletes every version of a clip's captions (a withdrawn clip's takedown): they hold the contributor's
 * words and their translations, and a withdrawn clip is never released again. The audit log keeps who
 * saved which version (language, number, cue count), never the text. Returns how many went.
 */
export async function removeCaptionVersions(model: CaptionVersionModel, submissionId: Id): Promise<number> {
  const result = await model.deleteMany({ submissionId: oid(submissionId) });
  return result.deletedCount;
}

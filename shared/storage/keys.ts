/**
 * Every S3 key the project writes, built in one pure module. Keys contain opaque ids only:
 * never a filename, an organisation, a language code chosen by a contributor, or any other contributor data.
 */

export type OutputName = 'master' | 'protectedMaster' | 'preview' | 'captionedPreview' | 'poster' | 'captionsVtt' | 'captionsSrt';

const OUTPUT_FILES: Record<OutputName, string> = {
  master: 'master.mp4',
  protectedMaster: 'protected-master.mp4',
  preview: 'preview.mp4',
  captionedPreview: 'preview-captioned.mp4',
  poster: 'poster.jpg',
  captionsVtt: 'captions.vtt',
  captionsSrt: 'captions.srt',
};

const ID = /^[a-f0-9]{24}$/;

function checkId(submissionId: string): string {
  if (!ID.test(submissionId)) throw new Error(`not a submission id: ${submissionId}`);
  return submissionId;
}

/** The clip exactly as uploaded. */
export function originalKey(submissionId: string): string {
  return `originals/${checkId(submissionId)}/video`;
}

/** Both raw uploads of a submission (deleted by the retention job, worker/retention.ts). */
export function originalsPrefix(submissionId: string): string {
  return `originals/${checkId(submissionId)}/`;
}

/** The subtitle file exactly as uploaded. */
export function originalSubtitlesKey(submissionId: string): string {
  return `originals/${checkId(submissionId)}/subtitles`;
}

const LEASE = /^[a-f0-9]{16}$/;

/**
 * What the worker produces, under the processing lease it was made in (shared/submissions/lease.ts):
 * a worker that stalled past its lease and woke up mid-upload writes only into its own folder, never
 * over the outputs of the worker that replaced it. The settle records the holder's keys; the others'
 * folders are removed (outputsPrefix).
 */
export function outputKey(submissionId: string, lease: string, output: OutputName): string {
  if (!LEASE.test(lease)) throw new Error(`not a lease id: ${lease}`);
  return `${outputsPrefix(submissionId)}${lease}/${OUTPUT_FILES[output]}`;
}

/** Every output of a submission, of every attempt. */
export function outputsPrefix(submissionId: string): string {
  return `outputs/${checkId(submissionId)}/`;
}

const RELEASE_FILE = /^[a-z0-9]+(-[a-z0-9]+)*\.(mp4|jpg|srt|vtt)$/;

/**
 * The release renders (worker/handlers/release-submission.handler.ts): one fixed key per file, so a re-run
 * overwrites rather than adds. File names are built by the worker from the shape and the caption language
 * code (validated, lower-case), e.g. `vertical-be.mp4`.
 */
export function releaseKey(submissionId: string, file: string): string {
  if (!RELEASE_FILE.test(file)) throw new Error(`not a release file name: ${file}`);
  return `${releasePrefix(submissionId)}${file}`;
}

export function releasePrefix(submissionId: string): string {
  return `releases/${checkId(submissionId)}/`;
}

/**
 * The review preview with a caption version burned in (worker/handlers/caption-preview.handler.ts), under
 * the version's own id: a language code chosen by a moderator never enters a key.
 */
export function captionPreviewKey(submissionId: string, versionId: string): string {
  if (!ID.test(versionId)) throw new Error(`not a caption version id: ${versionId}`);
  return `${captionsPrefix(submissionId)}${versionId}/preview-captioned.mp4`;
}

export function captionsPrefix(submissionId: string): string {
  return `captions/${checkId(submissionId)}/`;
}

/** A campaign's release branding (its watermark, its end card): the campaign's id, a fixed name. */
export function campaignReleaseKey(campaignId: string, asset: 'watermark' | 'end-card'): string {
  if (!ID.test(campaignId)) throw new Error(`not a campaign id: ${campaignId}`);
  return `campaign-release/${campaignId}/${asset}.png`;
}

/** Everything stored for one submission (for withdrawal and for tests that check nothing is left). */
export function submissionPrefixes(submissionId: string): string[] {
  return [originalsPrefix(submissionId), outputsPrefix(submissionId), releasePrefix(submissionId), captionsPrefix(submissionId)];
}

/** A campaign's logo (an admin's upload, cleaned): the campaign's id and a random id, nothing else. */
export function campaignLogoKey(campaignId: string, logoId: string): string {
  if (!/^[a-f0-9]{16}$/.test(logoId)) throw new Error(`not a logo id: ${logoId}`);
  return `campaigns/${checkId(campaignId)}/logo-${logoId}`;
}

/** A file sent to /verify: held only until the check's job has read it (minutes), under the check's random id. */
export const VERIFY_PREFIX = 'verify/';

export function verifyUploadKey(checkId: string): string {
  if (!/^[A-Za-z0-9_-]{22}$/.test(checkId)) throw new Error(`not a verification check id: ${checkId}`);
  return `${VERIFY_PREFIX}${checkId}`;
}

/** An action report's photo (issue 18), as cleaned: the report's id and a random photo id, nothing else. */
export function reportPhotoKey(reportId: string, photoId: string): string {
  if (!/^[a-f0-9]{16}$/.test(photoId)) throw new Error(`not a photo id: ${photoId}`);
  return `${reportPrefix(reportId)}photo-${photoId}`;
}

/** Everything stored for one action report. */
export function reportPrefix(reportId: string): string {
  return `reports/${checkId(reportId)}/`;
}

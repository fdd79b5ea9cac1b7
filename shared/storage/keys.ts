/**
 * Every S3 key the project writes, built in one pure module. Keys contain opaque ids only:
 * never a filename, an organisation, a language code chosen by a contributor, or any other contributor data.
 */

export type OutputName = 'preview' | 'captionedPreview' | 'poster' | 'captionsVtt' | 'captionsSrt';

const OUTPUT_FILES: Record<OutputName, string> = {
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

/** The subtitle file exactly as uploaded. */
export function originalSubtitlesKey(submissionId: string): string {
  return `originals/${checkId(submissionId)}/subtitles`;
}

/** What the worker produces; deterministic, so a re-run overwrites instead of adding. */
export function outputKey(submissionId: string, output: OutputName): string {
  return `outputs/${checkId(submissionId)}/${OUTPUT_FILES[output]}`;
}

/** Everything stored for one submission (for withdrawal and for tests that check nothing is left). */
export function submissionPrefixes(submissionId: string): string[] {
  return [`originals/${checkId(submissionId)}/`, `outputs/${checkId(submissionId)}/`];
}

/**
 * What /verify says about a file, in the order it is decided (worker/handlers/verify-file.handler.ts):
 *
 * - `signed`          a manifest that validates, signed under this deployment's root, of a clip still released;
 * - `signed_revoked`  the same, but the campaign withdrew that release (its signature no longer vouches for it);
 * - `signed_changed`  a manifest signed under this root, but the file changed after signing (the content
 *                     match, when found, shows where);
 * - `signed_other`    a valid manifest whose signer is not this deployment (the signer's name is shown as it is);
 * - `matches`         no (valid) signature, but the picture or sound matches a release: which one, when, and a
 *                     timeline of what was kept, cut and changed;
 * - `no_match`        not something this campaign released (or a photo without a signature: photos are checked
 *                     by their signature only).
 *
 * An answer never names the contributor, never says that an unreleased, rejected or withdrawn clip exists
 * (withdrawn releases leave the content index at takedown), and never carries the file's name.
 */

export const VERDICTS = ['signed', 'signed_revoked', 'signed_changed', 'signed_other', 'matches', 'no_match'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** A stretch of the release (seconds of the release): kept in the copy, cut from it, or there but changed. */
export interface TimelineSegment {
  from: number;
  to: number;
  kind: 'kept' | 'cut' | 'changed';
}

export interface ContentMatchAnswer {
  /** The release's length and the copy's, in seconds. */
  releaseSeconds: number;
  copySeconds: number;
  /** The picture's and the sound's timelines over the release (null: that track could not be compared). */
  picture: TimelineSegment[] | null;
  sound: TimelineSegment[] | null;
  /** Stretches of the copy (seconds of the copy) that are not from the release: footage spliced in. */
  foreign: { from: number; to: number }[];
}

export interface VerifyAnswer {
  verdict: Verdict;
  /** The signing certificate's organisation (signed verdicts). */
  signer: string | null;
  /** The campaign's name and the release's day (YYYY-MM-DD), when the file is, or matches, one of its releases. */
  campaign: string | null;
  published: string | null;
  /** Whether the file is a photo (checked by its signature only). */
  photo: boolean;
  match: ContentMatchAnswer | null;
}

/** Failures the page explains: the file could not be checked at all. */
export const VERIFY_FAILURES = ['not_media', 'too_long', 'too_large', 'damaged', 'internal'] as const;
export type VerifyFailure = (typeof VERIFY_FAILURES)[number];

import { Types } from 'mongoose';
import { AppError } from '../../shared/errors';
import { releasePrefix } from '../../shared/storage/keys';
import type { Submission } from '../../shared/submissions/submission.model';
import type { ServerDeps } from '../deps';

/**
 * Download links for the social teams: the only place a link to a clip's media is minted for them. A link
 * is minted only for a file of a `released` clip's release set (never an original, a preview, the master,
 * an unreleased or a withdrawn clip), lives a few minutes, and saves the file under a name that says
 * nothing about the contributor: `solidarity-<campaign>-<id>-9x16-be.mp4`.
 */

export const LINK_SECONDS = 300;

const SHAPE_LABELS: Record<string, string> = { source: 'original-shape', square: '1x1', vertical: '9x16' };

/** The file name a release output is saved under. `output` is a release output name (release.step.ts). */
export function downloadFilename(campaignSlug: string, submissionId: string, output: string): string {
  const campaign = campaignSlug.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'campaign';
  const base = `solidarity-${campaign}-${submissionId}`;
  const captions = /^captions-([a-z0-9-]+)-(srt|vtt)$/.exec(output);
  if (captions) return `${base}-${captions[1]}.${captions[2]}`;
  const poster = /^poster-(source|square|vertical)$/.exec(output);
  if (poster) return `${base}-${SHAPE_LABELS[poster[1]!]}-poster.jpg`;
  const render = /^(source|square|vertical)(?:-([a-z0-9-]+))?$/.exec(output);
  if (render) return `${base}-${SHAPE_LABELS[render[1]!]}${render[2] ? `-${render[2]}` : ''}.mp4`;
  throw new Error(`not a release output: ${output}`);
}

function unavailable(): AppError {
  return new AppError('release_not_available', 404, 'This clip is not released (or was withdrawn): there is nothing to download.');
}

export interface ReleaseLink {
  url: string;
  filename: string;
  expiresInSeconds: number;
}

/** A short-lived link to one file of a released clip, or a 404 AppError when there is none to give. */
export async function mintReleaseLink(deps: Pick<ServerDeps, 'db' | 'storage'>, submissionId: string, output: string): Promise<ReleaseLink> {
  if (!Types.ObjectId.isValid(submissionId) || !/^[a-f0-9]{24}$/.test(submissionId)) throw unavailable();
  const found = await deps.db.submissions.findById(submissionId).select({ status: 1, campaignId: 1, release: 1 }).lean<Pick<Submission, 'status' | 'campaignId' | 'release'>>();
  if (!found || found.status !== 'released' || !found.release) throw unavailable();
  const object = Object.hasOwn(found.release.outputs, output) ? found.release.outputs[output] : undefined;
  if (!object) throw new AppError('release_file_not_found', 404, `This clip has no release file "${output}".`);
  // Belt and braces: whatever the record says, only objects under the release folder are ever linked.
  if (!object.key.startsWith(releasePrefix(submissionId))) throw unavailable();
  const campaign = await deps.db.campaigns.findById(found.campaignId).select({ slug: 1 }).lean<{ slug: string }>();
  const filename = downloadFilename(campaign?.slug ?? 'campaign', submissionId, output);
  return { url: await deps.storage.signedGetUrl(object.key, LINK_SECONDS, { filename }), filename, expiresInSeconds: LINK_SECONDS };
}

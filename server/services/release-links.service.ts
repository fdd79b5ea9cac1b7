import { AppError } from '../../shared/errors';
import { releasePrefix } from '../../shared/storage/keys';
import type { ServerDeps } from '../deps';
import { releasedInScope, type GalleryScope } from './gallery.service';
import { downloadFilename } from './release-files';
import type { ReleaseUse } from '../../shared/submissions/consent-scopes';

export { downloadFilename };

/**
 * Download links for the social teams: the only place a link to a clip's media is minted for them. A link
 * is minted only for a file of a `released` clip's release set (never an original, a preview, the master,
 * an unreleased or a withdrawn clip), lives a few minutes, and saves the file under a name that says
 * nothing about the contributor: `solidarity-<campaign>-<id>-9x16-be.mp4`.
 */

export const LINK_SECONDS = 300;

function unavailable(): AppError {
  return new AppError('release_not_available', 404, 'This clip is not released (or was withdrawn): there is nothing to download.');
}

export interface ReleaseLink {
  url: string;
  filename: string;
  expiresInSeconds: number;
}

/** A short-lived link to one file of a released clip, or a 404 AppError when there is none to give. */
export async function mintReleaseLink(
  deps: Pick<ServerDeps, 'db' | 'storage'>,
  scope: GalleryScope,
  submissionId: string,
  output: string,
  use: ReleaseUse = 'social',
): Promise<ReleaseLink> {
  const { submission, campaign } = await releasedInScope(deps, scope, submissionId, use);
  const outputs = submission.release!.outputs;
  const object = Object.hasOwn(outputs, output) ? outputs[output] : undefined;
  if (!object) throw new AppError('release_file_not_found', 404, `This clip has no release file "${output}".`);
  // Belt and braces: whatever the record says, only objects under the release folder are ever linked.
  if (!object.key.startsWith(releasePrefix(submissionId))) throw unavailable();
  const filename = downloadFilename(campaign.slug, submissionId, output);
  return { url: await deps.storage.signedGetUrl(object.key, LINK_SECONDS, { filename }), filename, expiresInSeconds: LINK_SECONDS };
}

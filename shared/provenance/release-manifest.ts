/**
 * The C2PA manifest of a release file: what the campaign says it did, and nothing about the person who filmed it.
 * A pure function of the release's facts, so a unit test can read every string a manifest will carry.
 *
 * - Signer: the deployment's certificate (its O/CN), not set here.
 * - Claim generator: this project and its version.
 * - Parent ingredient: described by metadata only (title, format, an id of our own), never the file, which would
 *   carry the camera's data.
 * - Actions: opened (the parent), transcoded, and what was done to the picture and sound, each with a description.
 * - A custom assertion `org.solidarity-clips.release`: campaign, release id, language, published date (a day).
 *   The contributor's organisation only when their consent grants credit; never a name, contact or anything the
 *   original file held.
 */

export const RELEASE_ASSERTION = 'org.solidarity-clips.release';

/** The claim generator's version: package.json's (a unit test keeps them equal). */
export const GENERATOR_VERSION = '0.1.0';

export interface ReleaseFacts {
  /** The campaign's name, as the public sees it. */
  campaign: string;
  /** The release's id (the gallery's and the feeds' id). */
  releaseId: string;
  /** The file's name in the release set, e.g. `vertical-be.mp4`, `poster-square.jpg`. */
  fileName: string;
  kind: 'video' | 'poster';
  /** The burned-in caption language, or null for a plain render. */
  captionLanguage: string | null;
  /** The clip's spoken language. */
  language: string;
  /** The day the release was made, YYYY-MM-DD. */
  published: string;
  /** The release shape: source, square or vertical. */
  shape: string;
  watermark: boolean;
  endCard: boolean;
  /** Faces covered (identity protection). */
  faceMasking: boolean;
  /** The voice disguised (identity protection). */
  voiceDisguised: boolean;
  /** The picture replaced by the campaign's card (the contributor asked not to be shown). */
  pictureReplaced: boolean;
  /** The contributor's organisation, only when the consent grants credit; otherwise null. */
  creditedOrganisation: string | null;
}

export interface ManifestDefinition {
  claim_generator_info: { name: string; version: string }[];
  title: string;
  format: string;
  ingredients: { title: string; format: string; relationship: 'parentOf'; instance_id: string }[];
  assertions: { label: string; data: Record<string, unknown> }[];
}

interface Action {
  action: string;
  description: string;
  parameters?: Record<string, unknown>;
}

const PARENT_ID = 'xmp:iid:solidarity-clips-master';

export function releaseManifest(facts: ReleaseFacts, generatorVersion = GENERATOR_VERSION): ManifestDefinition {
  const actions: Action[] = [
    { action: 'c2pa.opened', description: 'The campaign\'s master of the clip, made from the contributor\'s upload with its metadata removed', parameters: { ingredientIds: [PARENT_ID] } },
    { action: 'c2pa.transcoded', description: facts.kind === 'poster' ? 'A still frame taken as the poster (JPEG)' : 'Re-encoded as H.264 video and AAC sound, loudness levelled' },
  ];
  if (facts.shape !== 'source') actions.push({ action: 'c2pa.cropped', description: `Cropped to the ${facts.shape} shape for social media` });
  if (facts.faceMasking) actions.push({ action: 'c2pa.edited', description: 'Faces covered to protect the contributor\'s identity' });
  if (facts.pictureReplaced) actions.push({ action: 'c2pa.edited', description: 'The picture replaced by the campaign\'s card to protect the contributor\'s identity' });
  if (facts.voiceDisguised && facts.kind === 'video') actions.push({ action: 'c2pa.edited', description: 'The voice disguised to protect the contributor\'s identity' });
  if (facts.captionLanguage && facts.kind === 'video') actions.push({ action: 'c2pa.edited', description: `Captions in "${facts.captionLanguage}" burned into the picture` });
  if (facts.watermark) actions.push({ action: 'c2pa.edited', description: 'The campaign\'s logo placed in a corner' });
  if (facts.endCard && facts.kind === 'video') actions.push({ action: 'c2pa.edited', description: 'The campaign\'s end card added at the end' });
  const release: Record<string, unknown> = {
    campaign: facts.campaign,
    releaseId: facts.releaseId,
    language: facts.language,
    captionLanguage: facts.captionLanguage,
    shape: facts.shape,
    published: facts.published,
  };
  if (facts.creditedOrganisation) release.credit = facts.creditedOrganisation;
  return {
    claim_generator_info: [{ name: 'solidarity-clips', version: generatorVersion }],
    title: facts.fileName,
    format: facts.kind === 'poster' ? 'image/jpeg' : 'video/mp4',
    ingredients: [{ title: 'master.mp4', format: 'video/mp4', relationship: 'parentOf', instance_id: PARENT_ID }],
    assertions: [
      { label: 'c2pa.actions', data: { actions } },
      { label: RELEASE_ASSERTION, data: release },
    ],
  };
}

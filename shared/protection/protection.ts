/**
 * Identity protection: what a contributor at risk asks for, and what the pipeline then does to every
 * picture and sound that leaves the system (worker/steps/protect.step.ts). Any of the three may be combined.
 *
 * - face:  every face found in the picture is covered by a solid box (or strongly pixelated), checked by a
 *          moderator frame by frame before approval;
 * - voice: the voice is pitch-shifted by a secret random factor drawn per clip (never stored or logged);
 * - card:  the picture is replaced by the campaign's card (its colour and logo); with `voice`, only the
 *          disguised voice and the captions remain.
 */
export interface ProtectionChoice {
  face: boolean;
  voice: boolean;
  card: boolean;
}

export interface SubmissionProtection extends ProtectionChoice {
  /** Who asked: the contributor on the form, or a moderator who saw a face that should not be seen. */
  by: 'contributor' | 'moderator';
  at: Date;
}

export const NO_PROTECTION: ProtectionChoice = { face: false, voice: false, card: false };

/** The old single switch (`protection=true`) means: hide my face and disguise my voice. */
export const LEGACY_PROTECTION: ProtectionChoice = { face: true, voice: true, card: false };

export function isProtected(choice: Partial<ProtectionChoice> | null | undefined): boolean {
  return Boolean(choice && (choice.face || choice.voice || choice.card));
}

/** The choice from the form's fields: the three options, and the old switch, which adds face and voice. */
export function protectionFromFields(fields: { protection?: boolean; protectFace?: boolean; protectVoice?: boolean; protectCard?: boolean }): ProtectionChoice {
  const legacy = fields.protection === true;
  return {
    face: legacy || fields.protectFace === true,
    voice: legacy || fields.protectVoice === true,
    card: fields.protectCard === true,
  };
}

/**
 * How faces are covered. Solid boxes by default; pixelation only in blocks so large that a face is a few
 * squares across. Never a light blur: a moderate blur leaves a face guessable.
 */
export const MASK_STYLES = ['solid', 'pixelate'] as const;
export type MaskStyle = (typeof MASK_STYLES)[number];

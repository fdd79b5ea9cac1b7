import type { Campaign } from '../../../shared/models/campaign.model';

export interface ReasonChoice {
  /** The template's id: the form's value, never shown. */
  id: string;
  /** What the moderator reads: the reason in the staff page's language, else in the campaign's first language. */
  text: string;
}

/**
 * A campaign's rejection reasons as a moderator picks them: each in the page's language if the campaign wrote
 * it in that language, else in the campaign's default (first) language, else in whichever it has. The
 * contributor still reads the reason in their own language (review.service.ts `reasonText`). A reason with no
 * text at all is left out rather than shown by its id.
 */
export function reasonChoices(campaign: Pick<Campaign, 'languages' | 'rejectionReasons'>, language: string): ReasonChoice[] {
  const choices: ReasonChoice[] = [];
  for (const reason of campaign.rejectionReasons ?? []) {
    const usable = reason.texts.filter((x) => x.text.trim() !== '');
    const text = usable.find((x) => x.language === language) ?? usable.find((x) => x.language === campaign.languages[0]) ?? usable[0];
    if (text) choices.push({ id: reason.id, text: text.text });
  }
  return choices;
}

/** At most `max` characters (whole code points, so an emoji or a surrogate pair is never cut in half), with "…" when cut. */
export function shortened(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

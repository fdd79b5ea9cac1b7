import type { LocalisedText } from '../models/campaign.model';

/**
 * The kinds of action a union can report (issue 18). A campaign has its own list (`actionKinds`, set by an
 * admin like any other field); a campaign made before reports existed, or that never set one, gets this list.
 * Ids are stable (the tallies and exports name them); the texts are what the form and the dashboard show.
 */
export interface ActionKind {
  /** Stable id, lower-case letters, digits and `_` (e.g. "embassy_protest"). */
  id: string;
  texts: LocalisedText[];
}

export const ACTION_KIND_ID = /^[a-z][a-z0-9_]{1,39}$/;

const kind = (id: string, en: string, be: string, ru: string, uk: string): ActionKind => ({
  id,
  texts: [
    { language: 'en', text: en },
    { language: 'be', text: be },
    { language: 'ru', text: ru },
    { language: 'uk', text: uk },
  ],
});

export const DEFAULT_ACTION_KINDS: readonly ActionKind[] = [
  kind('embassy_protest', 'Protest at an embassy', 'Пікет каля амбасады', 'Пикет у посольства', 'Пікет біля посольства'),
  kind('letter', 'Letter or petition', 'Ліст або петыцыя', 'Письмо или петиция', 'Лист або петиція'),
  kind('meeting', 'Meeting', 'Сустрэча', 'Встреча', 'Зустріч'),
  kind('online_action', 'Online action', 'Анлайн-акцыя', 'Онлайн-акция', 'Онлайн-акція'),
  kind('statement', 'Statement', 'Заява', 'Заявление', 'Заява'),
  kind('workplace_action', 'Action at the workplace', 'Акцыя на працоўным месцы', 'Акция на рабочем месте', 'Акція на робочому місці'),
  kind('other', 'Other action', 'Іншая акцыя', 'Другая акция', 'Інша акція'),
];

/** The campaign's list, or the default one. */
export function actionKindsOf(campaign: { actionKinds?: ActionKind[] | null }): readonly ActionKind[] {
  return campaign.actionKinds && campaign.actionKinds.length > 0 ? campaign.actionKinds : DEFAULT_ACTION_KINDS;
}

/** A kind's name in a language: that language's text, else English, else the first, else the id. */
export function actionKindLabel(kinds: readonly ActionKind[], id: string, language: string): string {
  const found = kinds.find((k) => k.id === id);
  if (!found) return id;
  return (found.texts.find((t) => t.language === language) ?? found.texts.find((t) => t.language === 'en') ?? found.texts[0])?.text ?? id;
}

/** A day of action: a calendar date, `YYYY-MM-DD` (the day as the campaign announced it, no time zone). */
export const ACTION_DAY = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

export function isCalendarDate(value: string): boolean {
  if (!ACTION_DAY.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

import type { Campaign } from '../models/campaign.model';
import type { SubmissionConsent } from './submission.model';

/**
 * Where a clip may go, decided by the consent statements its contributor agreed to. A campaign's
 * statement names what it grants (`grants`): uses — social media, websites, events, press — and `credit`
 * (the organisation may be named). A clip is offered (gallery, downloads, feeds, webhooks) only for the
 * uses granted by a statement the contributor agreed to, in the consent version they saw. A statement
 * that grants nothing grants nothing: a campaign that names no grants releases nothing.
 */

export const RELEASE_USES = ['social', 'web', 'events', 'press'] as const;
export type ReleaseUse = (typeof RELEASE_USES)[number];
export const CONSENT_GRANTS = [...RELEASE_USES, 'credit'] as const;
export type ConsentGrant = (typeof CONSENT_GRANTS)[number];

export interface ConsentScope {
  uses: ReleaseUse[];
  /** The contributor agreed that their organisation be named (in the suggested post text). */
  credit: boolean;
}

export function consentScope(campaign: Pick<Campaign, 'consentVersions'>, consent: Pick<SubmissionConsent, 'version' | 'statements'>): ConsentScope {
  const version = campaign.consentVersions.find((v) => v.version === consent.version);
  const agreed = new Set(consent.statements);
  const granted = new Set<string>();
  for (const text of version?.texts ?? []) {
    for (const statement of text.statements) if (agreed.has(statement.id)) for (const grant of statement.grants ?? []) granted.add(grant);
  }
  return { uses: RELEASE_USES.filter((use) => granted.has(use)), credit: granted.has('credit') };
}

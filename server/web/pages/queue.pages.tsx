import { UndoForm } from './review.pages';
import { isolate } from '../../../shared/text/hostile-text';
import type { Campaign } from '../../../shared/models/campaign.model';
import type { ReviewClaim } from '../../../shared/submissions/review-claims';
import type { ReviewEntry } from '../../../shared/submissions/review-queue';
import { formatDateTime, type Translate } from '../messages/messages';
import type { StaffContext } from '../staff-route';
import { Csrf, ErrorNote, Layout } from './layout';
import { reasonChoices, shortened } from './rejection-reasons';

export interface QueueQuery {
  campaign?: string;
  language?: string;
  country?: string;
  organisation?: string;
  wait?: string;
}

export const WAIT_CHOICES = ['60', '1440', '4320'] as const;

export function waited(t: Translate, since: Date, now: Date): string {
  const minutes = Math.max(0, Math.floor((now.getTime() - since.getTime()) / 60_000));
  if (minutes < 120) return t('wait.minutes', { count: minutes });
  if (minutes < 48 * 60) return t('wait.hours', { count: Math.floor(minutes / 60) });
  return t('wait.days', { count: Math.floor(minutes / 1440) });
}

function Select(props: { id: string; name: string; label: string; value: string | undefined; options: { value: string; label: string }[]; any: string }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.name}>
        <option value="">{props.any}</option>
        {props.options.map((o) => (
          <option value={o.value} selected={o.value === props.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

export interface QueuePageProps {
  ctx: StaffContext;
  entries: ReviewEntry[];
  claims: Map<string, ReviewClaim>;
  campaigns: Campaign[];
  facets: { languages: string[]; countries: string[]; organisations: string[] };
  query: QueueQuery;
  next: string | null;
  paged: boolean;
  now: Date;
  me: string;
  notice?: string | null;
  /** The decision the notice is about can still be undone (review.pages.tsx, UndoForm). */
  undo?: { id: string; filter: string; until: Date | null } | null;
  notes?: string[];
  /** Action reports waiting in the moderator's campaigns (issue 18): the queue's other kind, a page of its own. */
  reportsWaiting?: number;
}

export function QueuePage(props: QueuePageProps) {
  const { ctx, query, now } = props;
  const { t } = ctx;
  const campaignName = new Map(props.campaigns.map((c) => [c._id.toHexString(), c]));
  const opts = (values: string[]) => values.map((v) => ({ value: v, label: v }));
  const filterQuery = new URLSearchParams(Object.entries(query).filter(([, v]) => typeof v === 'string' && v !== '') as [string, string][]);
  // One choice per reason id across the campaigns shown (each clip is rejected with its own campaign's text).
  const reasons = new Map<string, string>();
  for (const campaign of props.campaigns) for (const r of reasonChoices(campaign, ctx.lang)) if (!reasons.has(r.id)) reasons.set(r.id, r.text);
  return (
    <Layout ctx={ctx} title={t('queue.title')} wide>
      {props.reportsWaiting !== undefined && (
        <p>
          <a href="/staff/queue/reports" data-testid="reports-queue-link">
            {t('reports.queue.link', { count: props.reportsWaiting })}
          </a>
        </p>
      )}
      {props.notice && (
        <div class="notice" role="status" data-testid="decided">
          <p>{props.notice}</p>
          {props.undo && <UndoForm ctx={ctx} id={props.undo.id} filter={props.undo.filter} until={props.undo.until} />}
        </div>
      )}
      {props.notes?.map((note) => <ErrorNote message={note} />)}
      <form method="get" action="/staff/queue" class="filters" aria-label={t('queue.filters')}>
        <Select id="f-campaign" name="campaign" label={t('queue.campaign')} value={query.campaign} any={t('queue.any')} options={props.campaigns.map((c) => ({ value: c.slug, label: isolate(c.name) }))} />
        <Select id="f-language" name="language" label={t('queue.language')} value={query.language} any={t('queue.any')} options={opts(props.facets.languages)} />
        <Select id="f-country" name="country" label={t('queue.country')} value={query.country} any={t('queue.any')} options={opts(props.facets.countries)} />
        <Select id="f-organisation" name="organisation" label={t('queue.organisation')} value={query.organisation} any={t('queue.any')} options={opts(props.facets.organisations).map((o) => ({ ...o, label: isolate(o.label) }))} />
        <Select id="f-wait" name="wait" label={t('queue.wait')} value={query.wait} any={t('queue.any')} options={WAIT_CHOICES.map((w) => ({ value: w, label: t(`queue.wait.${w}`) }))} />
        <div class="field actions">
          <button type="submit">{t('queue.apply')}</button>
          <a href="/staff/queue">{t('queue.clear')}</a>
        </div>
      </form>

      {props.entries.length > 0 && (
        <p>
          <a href={filterQuery.size > 0 ? `/staff/queue/next?${filterQuery.toString()}` : '/staff/queue/next'} data-key="n">
            {t('queue.nextFree')}
          </a>
        </p>
      )}
      {props.entries.length === 0 ? (
        <p data-testid="queue-empty">{t('queue.empty')}</p>
      ) : (
        <form method="post" action="/staff/queue/bulk">
          <Csrf ctx={ctx} />
          <table class="stack queue" data-testid="queue">
            <thead>
              <tr>
                <th>
                  <span class="visually-hidden">{t('queue.bulk')}</span>
                </th>
                <th>{t('queue.title.col')}</th>
                <th>{t('queue.campaign')}</th>
                <th>{t('queue.organisation')}</th>
                <th>{t('queue.language')}</th>
                <th>{t('queue.waiting')}</th>
                <th>{t('queue.state')}</th>
              </tr>
            </thead>
            <tbody>
              {props.entries.map((entry) => {
                const id = entry._id.toHexString();
                const claim = props.claims.get(id);
                const campaign = campaignName.get(entry.campaignId.toHexString());
                return (
                  <tr data-id={id}>
                    <td data-label={t('queue.bulk')}>
                      <input type="checkbox" name="ids" value={id} aria-label={t('queue.select', { title: isolate(entry.title) })} />
                    </td>
                    <td data-label={t('queue.title.col')}>
                      <a href={filterQuery.size > 0 ? `/staff/review/${id}?${filterQuery.toString()}` : `/staff/review/${id}`}>
                        <bdi>{entry.title}</bdi>
                      </a>
                      {entry.durationSeconds !== null && <span class="help"> · {t('duration.seconds', { seconds: Math.round(entry.durationSeconds) })}</span>}
                    </td>
                    <td data-label={t('queue.campaign')}>
                      <bdi>{campaign?.name ?? '—'}</bdi>
                    </td>
                    <td data-label={t('queue.organisation')}>
                      <bdi>{entry.organisation}</bdi> ({entry.country})
                    </td>
                    <td data-label={t('queue.language')}>{entry.language}</td>
                    <td data-label={t('queue.waiting')}>
                      <time dateTime={entry.enteredAt.toISOString()}>{waited(t, entry.enteredAt, now)}</time>
                    </td>
                    <td data-label={t('queue.state')} class="state">
                      {claim
                        ? claim.by === props.me
                          ? t('queue.claimedByYou', { until: formatDateTime(ctx.lang, claim.expiresAt) })
                          : t('queue.claimedBy', { email: claim.email, until: formatDateTime(ctx.lang, claim.expiresAt) })
                        : t('queue.free')}
                      {entry.protectionRequested && (
                        <span class="badge protected" data-testid="badge-protected">
                          {t('queue.protected')}
                        </span>
                      )}
                      {entry.sensitive && <span class="badge">{t('queue.sensitive')}</span>}
                      {entry.approvals.length > 0 && <span class="badge">{t('queue.votes', { count: entry.approvals.length })}</span>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <fieldset class="bulk">
            <legend>{t('queue.bulk')}</legend>
            <p class="help">{t('queue.bulkHelp')}</p>
            <label for="bulk-template">{t('queue.bulkReason')}</label>
            <select id="bulk-template" name="template">
              <option value="">{t('review.rejectNone')}</option>
              {[...reasons].map(([id, text]) => (
                <option value={id}>{shortened(text, 80)}</option>
              ))}
            </select>
            <label for="bulk-note">{t('review.rejectNote')}</label>
            <textarea id="bulk-note" name="note" rows={2} maxLength={2000} />
            <div class="buttons">
              <button type="submit" name="action" value="approve">
                {t('queue.bulkApprove')}
              </button>
              <button type="submit" name="action" value="reject" class="secondary">
                {t('queue.bulkReject')}
              </button>
            </div>
          </fieldset>
        </form>
      )}
      <p class="pager">
        {props.paged && <a href={`/staff/queue?${filterQuery.toString()}`}>{t('queue.first')}</a>}{' '}
        {props.next && <a href={`/staff/queue?${new URLSearchParams([...filterQuery, ['after', props.next]]).toString()}`}>{t('queue.next')}</a>}
      </p>
      <p class="help shortcuts" hidden data-shortcuts>
        {t('queue.shortcuts')}
      </p>
    </Layout>
  );
}

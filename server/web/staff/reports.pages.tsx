import type { Campaign } from '../../../shared/models/campaign.model';
import { actionKindLabel, actionKindsOf } from '../../../shared/reports/action-kinds';
import type { ReportReviewEntry } from '../../../shared/reports/report-review';
import { PHOTO_CHECKS, type Report } from '../../../shared/reports/report.model';
import { isolate } from '../../../shared/text/hostile-text';
import { formatDateTime } from '../messages/messages';
import { Csrf, ErrorNote, Layout } from '../pages/layout';
import { waited } from '../pages/queue.pages';
import { reasonChoices, shortened } from '../pages/rejection-reasons';
import type { StaffContext } from '../staff-route';

/** The moderators' pages for action reports (issue 18): the queue of reports and one report's review. */

export function ReportQueuePage(props: { ctx: StaffContext; entries: ReportReviewEntry[]; campaigns: Campaign[]; now: Date; me: string; notice?: string | null }) {
  const { ctx, now } = props;
  const { t } = ctx;
  const byId = new Map(props.campaigns.map((c) => [c._id.toHexString(), c]));
  return (
    <Layout ctx={ctx} title={t('reports.queue.title')} wide>
      <p>
        <a href="/staff/queue">{t('reports.queue.clips')}</a>
      </p>
      {props.notice && (
        <div class="notice" role="status" data-testid="decided">
          <p>{props.notice}</p>
        </div>
      )}
      {props.entries.length === 0 ? (
        <p data-testid="reports-queue-empty">{t('reports.queue.empty')}</p>
      ) : (
        <table class="stack queue" data-testid="reports-queue">
          <thead>
            <tr>
              <th>{t('reports.col.kind')}</th>
              <th>{t('queue.campaign')}</th>
              <th>{t('reports.col.date')}</th>
              <th>{t('reports.col.organisation')}</th>
              <th>{t('reports.col.photos')}</th>
              <th>{t('reports.col.waiting')}</th>
              <th>{t('reports.col.state')}</th>
            </tr>
          </thead>
          <tbody>
            {props.entries.map((entry) => {
              const id = entry._id.toHexString();
              const campaign = byId.get(entry.campaignId.toHexString());
              const kinds = campaign ? actionKindsOf(campaign) : [];
              const held = entry.claimedBy && entry.claimedUntil && entry.claimedUntil > now;
              return (
                <tr data-id={id}>
                  <td data-label={t('reports.col.kind')}>
                    <a href={`/staff/review/reports/${id}`}>
                      <bdi>{actionKindLabel(kinds, entry.kind, ctx.lang)}</bdi>
                    </a>
                  </td>
                  <td data-label={t('queue.campaign')}>
                    <bdi>{campaign?.name ?? '—'}</bdi>
                  </td>
                  <td data-label={t('reports.col.date')}>{entry.date}</td>
                  <td data-label={t('reports.col.organisation')}>
                    <bdi>{entry.organisation}</bdi> ({entry.country})
                  </td>
                  <td data-label={t('reports.col.photos')}>{entry.photos}</td>
                  <td data-label={t('reports.col.waiting')}>
                    <time dateTime={entry.enteredAt.toISOString()}>{waited(t, entry.enteredAt, now)}</time>
                  </td>
                  <td data-label={t('reports.col.state')} class="state">
                    {held ? (entry.claimedBy === props.me ? t('reports.claimedByYou', { until: formatDateTime(ctx.lang, entry.claimedUntil!) }) : t('reports.claimedBy', { email: isolate(entry.claimedEmail ?? ''), until: formatDateTime(ctx.lang, entry.claimedUntil!) })) : t('reports.free')}
                    {entry.sensitive && <span class="badge">{t('reports.sensitive')}</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Layout>
  );
}

export function ReportReviewPage(props: { ctx: StaffContext; report: Report; campaign: Campaign; entry: ReportReviewEntry | null; now: Date; me: string; notice?: string | null; error?: string | null }) {
  const { ctx, report, campaign, entry, now } = props;
  const { t } = ctx;
  const id = report._id.toHexString();
  const kinds = actionKindsOf(campaign);
  const held = entry?.claimedBy && entry.claimedUntil && entry.claimedUntil > now ? entry : null;
  const mine = held?.claimedBy === props.me;
  const inReview = report.status === 'in_review' && entry !== null;
  const voted = entry?.approvals.some((v) => v.by === props.me) ?? false;
  const kept = report.photos.filter((p) => !p.excluded);
  const reasons = reasonChoices(campaign, ctx.lang);
  return (
    <Layout ctx={ctx} title={t('reports.review.title')} wide>
      <p>
        <a href="/staff/queue/reports">{t('reports.queue.title')}</a>
      </p>
      {props.notice && (
        <div class="notice" role="status" data-testid="decided">
          <p>{props.notice}</p>
        </div>
      )}
      <ErrorNote message={props.error} />
      <dl class="facts" data-testid="report-facts">
        <dt>{t('reports.field.state')}</dt>
        <dd>{t(`reports.state.${report.status}`)}</dd>
        <dt>{t('queue.campaign')}</dt>
        <dd>
          <bdi>{campaign.name}</bdi>
        </dd>
        <dt>{t('reports.field.kind')}</dt>
        <dd>
          <bdi>{actionKindLabel(kinds, report.kind, ctx.lang)}</bdi>
        </dd>
        <dt>{t('reports.field.date')}</dt>
        <dd>{report.date}</dd>
        <dt>{t('reports.field.time')}</dt>
        <dd>{report.startTime ?? '—'}</dd>
        <dt>{t('reports.field.place')}</dt>
        <dd>
          <bdi>{report.city}</bdi>, {report.country}
        </dd>
        <dt>{t('reports.field.participants')}</dt>
        <dd>{report.participants.replace('-', '–')}</dd>
        <dt>{t('reports.field.organisation')}</dt>
        <dd>
          <bdi>{report.organisation}</bdi>
        </dd>
        <dt>{t('reports.field.partners')}</dt>
        <dd dir="auto">{report.partners || '—'}</dd>
        <dt>{t('reports.field.text')}</dt>
        <dd dir="auto" class="message">
          {report.text || '—'}
        </dd>
        <dt>{t('reports.field.received')}</dt>
        <dd>{formatDateTime(ctx.lang, report.createdAt)}</dd>
      </dl>
      {inReview && (
        <>
          <p class="state" data-testid="claim-state">
            {held ? (mine ? t('reports.claimedByYou', { until: formatDateTime(ctx.lang, held.claimedUntil!) }) : t('reports.claimedBy', { email: isolate(held.claimedEmail ?? ''), until: formatDateTime(ctx.lang, held.claimedUntil!) })) : t('reports.free')}
          </p>
          {!held && (
            <form method="post" action={`/staff/review/reports/${id}/claim`}>
              <Csrf ctx={ctx} />
              <button type="submit">{t('reports.claim')}</button>
            </form>
          )}
          {entry!.approvals.length > 0 && <p>{t('reports.votes', { email: entry!.approvals.map((v) => v.email).join(', ') })}</p>}
        </>
      )}
      <h2>{t('reports.col.photos')}</h2>
      <ul class="gallery report-photos">
        {report.photos.map((photo, n) => (
          <li data-photo={photo.id}>
            <img src={`/staff/review/reports/${id}/photos/${photo.id}`} width={photo.width} height={photo.height} alt={t('reports.photo.alt', { n: n + 1 })} loading="lazy" />
            <p>
              <strong>{t('reports.photo', { n: n + 1 })}</strong> {photo.excluded && <span class="badge">{t('reports.photo.excluded')}</span>}
            </p>
            {inReview && (
              <form method="post" action={`/staff/review/reports/${id}/photos/${photo.id}/exclude`}>
                <Csrf ctx={ctx} />
                <input type="hidden" name="excluded" value={photo.excluded ? 'no' : 'yes'} />
                <button type="submit" class="secondary">
                  {photo.excluded ? t('reports.photo.include') : t('reports.photo.exclude')}
                </button>
              </form>
            )}
            {inReview && !photo.excluded && (
              <form method="post" action={`/staff/review/reports/${id}/photos/${photo.id}/mask`} class="mask">
                <Csrf ctx={ctx} />
                <fieldset>
                  <legend>{t('reports.mask')}</legend>
                  <p class="help">{t('reports.maskHelp')}</p>
                  {(['x', 'y', 'w', 'h'] as const).map((field) => (
                    <>
                      <label for={`mask-${photo.id}-${field}`}>{t(`reports.mask.${field}`)}</label>
                      <input id={`mask-${photo.id}-${field}`} name={field} type="number" min={0} max={100} step="any" required inputMode="decimal" />
                    </>
                  ))}
                  <button type="submit" class="secondary">
                    {t('reports.mask.apply')}
                  </button>
                </fieldset>
              </form>
            )}
          </li>
        ))}
      </ul>
      {inReview && !voted && (
        <form method="post" action={`/staff/review/reports/${id}/approve`} class="checklist">
          <Csrf ctx={ctx} />
          {kept.length > 0 && (
            <>
              <h2>{t('reports.checklist')}</h2>
              <p class="help">{t('reports.checklistHelp')}</p>
            </>
          )}
          {kept.map((photo) => {
            const n = report.photos.indexOf(photo) + 1;
            return (
              <fieldset>
                <legend>{t('reports.photo', { n })}</legend>
                {PHOTO_CHECKS.map((check) => (
                  <div class="check" role="radiogroup" aria-labelledby={`q-${photo.id}-${check}`}>
                    <span id={`q-${photo.id}-${check}`}>{t(`reports.check.${check}`)}</span>
                    <label>
                      <input type="radio" name={`${photo.id}-${check}`} value="clear" required /> {t('reports.check.clear')}
                    </label>
                    <label>
                      <input type="radio" name={`${photo.id}-${check}`} value="present" /> {t('reports.check.present')}
                    </label>
                  </div>
                ))}
              </fieldset>
            );
          })}
          <button type="submit">{t('reports.approve')}</button>
        </form>
      )}
      {inReview && (
        <form method="post" action={`/staff/review/reports/${id}/reject`} class="reject">
          <Csrf ctx={ctx} />
          <fieldset>
            <legend>{t('reports.reject')}</legend>
            <label for="template">{t('reports.rejectReason')}</label>
            <select id="template" name="template">
              <option value="">{t('reports.rejectNone')}</option>
              {reasons.map((r) => (
                <option value={r.id}>{shortened(r.text, 80)}</option>
              ))}
            </select>
            <label for="note">{t('reports.rejectNote')}</label>
            <textarea id="note" name="note" rows={3} maxLength={2000} />
            <button type="submit" class="secondary">
              {t('reports.reject')}
            </button>
          </fieldset>
        </form>
      )}
      {report.status !== 'withdrawn' && (
        <form method="post" action={`/staff/review/reports/${id}/withdraw`} class="withdraw">
          <Csrf ctx={ctx} />
          <fieldset>
            <legend>{t('reports.withdraw')}</legend>
            <p class="help">{t('reports.withdrawHelp')}</p>
            <label for="withdraw-reason">{t('reports.withdrawReason')}</label>
            <input id="withdraw-reason" name="reason" type="text" maxLength={2000} required />
            <div class="check">
              <input type="checkbox" id="withdraw-confirm" name="confirm" value="yes" required />
              <label for="withdraw-confirm">{t('reports.withdrawConfirm')}</label>
            </div>
            <button type="submit" class="danger">
              {t('reports.withdraw')}
            </button>
          </fieldset>
        </form>
      )}
    </Layout>
  );
}

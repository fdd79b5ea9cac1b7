import { shownWebhookUrl } from '../../../shared/distribution/webhook-address';
import type { DistributionOverview } from '../../services/distribution.service';
import { formatDateTime } from '../messages/messages';
import type { StaffContext } from '../staff-route';
import { Csrf, ErrorNote, Layout } from './layout';

const USES = ['social', 'web', 'events', 'press'] as const;

/** Admins: the teams' feeds and webhooks, and the webhook delivery log. */
export function DistributionPage(props: { ctx: StaffContext; overview: DistributionOverview; created?: { kind: 'feed' | 'webhook'; secret: string; urls?: string[] } | null; error?: string | null }) {
  const { ctx, overview } = props;
  const { t } = ctx;
  const hooks = new Map(overview.webhooks.map((h) => [h._id.toHexString(), h]));
  const useSelect = (
    <select name="use">
      {USES.map((use) => (
        <option value={use}>{t(`gallery.use.${use}`)}</option>
      ))}
    </select>
  );
  return (
    <Layout ctx={ctx} title={t('distribution.title')}>
      <ErrorNote message={props.error} />
      {props.created && (
        <div class="notice">
          <p>{t(props.created.kind === 'feed' ? 'distribution.feedCreated' : 'distribution.webhookCreated')}</p>
          <p class="secret" id="created-secret" data-testid="created-secret">
            {props.created.secret}
          </p>
          {props.created.urls?.map((url) => <p class="secret">{url}</p>)}
        </div>
      )}
      <h2>{t('distribution.feeds')}</h2>
      <table class="stack">
        <tbody>
          {overview.feeds.map((feed) => (
            <tr>
              <td data-label={t('gallery.campaign')}>{feed.campaign}</td>
              <td data-label={t('distribution.team')} dir="auto">
                {feed.team}
              </td>
              <td data-label={t('gallery.use')}>{feed.use}</td>
              <RevokeCell ctx={ctx} endedAt={feed.revokedAt} action={`/staff/admin/feeds/${feed._id.toHexString()}/revoke`} />
            </tr>
          ))}
        </tbody>
      </table>
      <form method="post" action="/staff/admin/feeds" class="inline-form">
        <Csrf ctx={ctx} />
        <label>
          {t('gallery.campaign')} <input type="text" name="campaign" required />
        </label>
        <label>
          {t('distribution.team')} <input type="text" name="team" required />
        </label>
        <label>
          {t('gallery.use')} {useSelect}
        </label>
        <button type="submit">{t('distribution.newFeed')}</button>
      </form>

      <h2>{t('distribution.webhooks')}</h2>
      <table class="stack">
        <tbody>
          {overview.webhooks.map((hook) => (
            <tr>
              <td data-label={t('gallery.campaign')}>{hook.campaign}</td>
              <td data-label={t('distribution.team')} dir="auto">
                {hook.team}
              </td>
              <td data-label="URL">{shownWebhookUrl(hook.url)}</td>
              <td data-label={t('gallery.use')}>{hook.use}</td>
              <RevokeCell ctx={ctx} endedAt={hook.disabledAt} action={`/staff/admin/webhooks/${hook._id.toHexString()}/disable`} />
            </tr>
          ))}
        </tbody>
      </table>
      <form method="post" action="/staff/admin/webhooks" class="inline-form">
        <Csrf ctx={ctx} />
        <label>
          {t('gallery.campaign')} <input type="text" name="campaign" required />
        </label>
        <label>
          {t('distribution.team')} <input type="text" name="team" required />
        </label>
        <label>
          URL <input type="text" name="url" required />
        </label>
        <label>
          {t('gallery.use')} {useSelect}
        </label>
        <button type="submit">{t('distribution.newWebhook')}</button>
      </form>

      <h2>{t('distribution.deliveries')}</h2>
      <table class="stack" id="deliveries">
        <thead>
          <tr>
            <th>{t('distribution.when')}</th>
            <th>{t('distribution.event')}</th>
            <th>{t('distribution.team')}</th>
            <th>{t('distribution.status')}</th>
            <th>{t('distribution.attempts')}</th>
          </tr>
        </thead>
        <tbody>
          {overview.deliveries.map((d) => (
            <tr data-delivery={d._id.toHexString()} data-status={d.status}>
              <td data-label={t('distribution.when')}>{formatDateTime(ctx.lang, d.createdAt)}</td>
              <td data-label={t('distribution.event')}>
                {d.event} {d.submissionId}
              </td>
              <td data-label={t('distribution.team')}>{hooks.get(d.webhookId.toHexString())?.team ?? '—'}</td>
              <td data-label={t('distribution.status')}>{d.status}</td>
              <td data-label={t('distribution.attempts')}>{d.attempts.map((a) => (a.status === null ? `— (${a.error ?? ''})` : String(a.status))).join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}

/** A feed's or webhook's last cell: when it was revoked, or the button that revokes it. */
function RevokeCell(props: { ctx: StaffContext; endedAt: Date | null | undefined; action: string }) {
  const { ctx } = props;
  return (
    <td>
      {props.endedAt ? (
        ctx.t('distribution.revoked', { at: formatDateTime(ctx.lang, props.endedAt) })
      ) : (
        <form method="post" action={props.action}>
          <Csrf ctx={ctx} />
          <button type="submit" class="secondary">
            {ctx.t('distribution.revoke')}
          </button>
        </form>
      )}
    </td>
  );
}

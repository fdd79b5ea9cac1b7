import type { Campaign } from '../../../shared/models/campaign.model';
import { actionKindLabel, actionKindsOf } from '../../../shared/reports/action-kinds';
import type { Dashboard } from '../../services/report-dashboard.service';
import { formatDateTime } from '../messages/messages';
import { isolate } from '../../../shared/text/hostile-text';
import { Layout } from '../pages/layout';
import { ReportMap } from '../public/report-map';
import type { StaffContext } from '../staff-route';

/** The press office's pages for action reports (issue 18): the campaigns, and one campaign's dashboard. */

export function ReportCampaignsPage(props: { ctx: StaffContext; campaigns: Campaign[] }) {
  const { t } = props.ctx;
  return (
    <Layout ctx={props.ctx} title={t('reports.home.title')}>
      <p class="help">{t('reports.home.help')}</p>
      {props.campaigns.length === 0 ? (
        <p>{t('reports.home.none')}</p>
      ) : (
        <ul>
          {props.campaigns.map((c) => (
            <li>
              <a href={`/staff/reports/${encodeURIComponent(c.slug)}`}>
                <bdi>{c.name}</bdi>
              </a>{' '}
              <span class="help">{(c.actionDays ?? []).join(', ')}</span>
            </li>
          ))}
        </ul>
      )}
    </Layout>
  );
}

function Bars(props: { rows: Array<[string, number]>; label: (key: string) => string; testid: string }) {
  const most = Math.max(1, ...props.rows.map(([, n]) => n));
  return (
    <ul class="bars" data-testid={props.testid}>
      {props.rows.map(([key, n]) => (
        <li data-key={key}>
          <span>
            <bdi>{props.label(key)}</bdi>
          </span>
          <meter min={0} max={most} value={n} aria-label={props.label(key)} />
          <span>{n}</span>
        </li>
      ))}
    </ul>
  );
}

export function ReportDashboardPage(props: { ctx: StaffContext; dashboard: Dashboard; now: Date; publicPath: string }) {
  const { ctx, dashboard: d } = props;
  const { t } = ctx;
  const slug = encodeURIComponent(d.campaign.slug);
  const kinds = actionKindsOf(d.campaign);
  const numbers = new Intl.NumberFormat(ctx.lang);
  return (
    <Layout ctx={ctx} title={t('reports.dash.title', { campaign: d.campaign.name })} wide>
      {d.days.length === 0 && <p class="notice">{t('reports.dash.noDays')}</p>}
      <nav aria-label={t('reports.dash.days')}>
        <ul class="tally days">
          {[{ day: 'all', actions: null as number | null }, ...d.days].map((day) => (
            <li>
              <a href={`/staff/reports/${slug}?day=${day.day}`} aria-current={day.day === d.selected ? 'page' : undefined}>
                {day.day === 'all' ? t('reports.dash.all') : day.day}
              </a>
              {day.actions !== null && <span class="help"> · {numbers.format(day.actions)}</span>}
            </li>
          ))}
        </ul>
      </nav>
      <ul class="tally" data-testid="tally">
        <li>
          <strong data-testid="tally-actions">{numbers.format(d.tally.actions)}</strong> {t('reports.dash.actions')}
        </li>
        <li>
          <strong data-testid="tally-countries">{numbers.format(d.countries.length)}</strong> {t('reports.dash.countries')}
        </li>
        <li>
          <strong>{numbers.format(d.tally.photos)}</strong> {t('reports.dash.photos')}
        </li>
        <li>
          <a href="/staff/queue/reports">
            <strong>{numbers.format(d.waiting)}</strong> {t('reports.dash.waiting')}
          </a>
        </li>
      </ul>
      <p class="help">{t('reports.dash.updated', { time: formatDateTime(ctx.lang, props.now) })}</p>
      {d.tally.actions === 0 && <p>{t('reports.dash.nothing')}</p>}
      <h2>{t('reports.dash.map')}</h2>
      <div class="tile-map">
        <ReportMap id="map" counts={d.countries} title={t('reports.dash.map')} label={(code, n) => t('reports.map.tile', { code, count: n })} />
      </div>
      <h2>{t('reports.dash.byCountry')}</h2>
      <Bars testid="by-country" rows={d.countries} label={(code) => code} />
      <h2>{t('reports.dash.byKind')}</h2>
      <Bars testid="by-kind" rows={d.kinds} label={(kind) => actionKindLabel(kinds, kind, ctx.lang)} />
      <h2>{t('reports.dash.timeline')}</h2>
      <Bars testid="by-hour" rows={d.hours} label={(hour) => (hour === 'unknown' ? t('reports.dash.unknownHour') : `${hour}:00`)} />
      <h2>{t('reports.dash.export')}</h2>
      <p>
        <a href={`/staff/reports/${slug}/export.csv`} download>
          {t('reports.dash.csv')}
        </a>{' '}
        ·{' '}
        <a href={`/staff/reports/${slug}/export.json`} download>
          {t('reports.dash.json')}
        </a>{' '}
        · <a href={props.publicPath}>{t('reports.dash.public')}</a>
      </p>
      <h2>{t('reports.gallery.title')}</h2>
      {d.tally.gallery.length === 0 ? (
        <p>{t('reports.gallery.empty')}</p>
      ) : (
        <>
          <ul class="gallery" data-testid="report-gallery">
            {d.tally.gallery.map((g, i) => {
              const href = `/staff/reports/${slug}/photos/${g.reportId}/${g.photoId}`;
              return (
                <li>
                  <img src={href} width={g.width} height={g.height} alt={`${actionKindLabel(kinds, g.kind, ctx.lang)}, ${g.country}, ${g.date}`} loading="lazy" />
                  <p class="help">
                    {g.credit ? t('reports.gallery.credit', { credit: isolate(g.credit) }) : t('reports.gallery.noCredit')}
                    {g.uses.map((use) => (
                      <span class="badge">{use}</span>
                    ))}
                  </p>
                  <a href={`${href}?download=1`} download>
                    {t('reports.gallery.download', { n: i + 1 })}
                  </a>
                </li>
              );
            })}
          </ul>
          <p class="help">{t('reports.gallery.more', { count: d.tally.gallery.length })}</p>
        </>
      )}
    </Layout>
  );
}

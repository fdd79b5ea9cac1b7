import { Router, type Request, type Response } from 'express';
import { gzipSync } from 'node:zlib';
import { render } from 'preact-render-to-string';
import { z } from 'zod';
import { AppError, isAppError } from '../../../shared/errors';
import type { Campaign } from '../../../shared/models/campaign.model';
import { actionKindLabel, actionKindsOf } from '../../../shared/reports/action-kinds';
import type { ServerDeps } from '../../deps';
import { findCampaign, localisedText } from '../../services/campaign.service';
import { approvedPhoto, publicPhotos, reportDashboard, type Dashboard } from '../../services/report-dashboard.service';
import { streamStoredObject } from '../stream-object';
import { CampaignNotFoundPage, ContribLayout, type ContribPageContext } from '../contrib/campaign.page';
import { CONTRIB_LANGUAGES, contribTranslator, pickLanguage } from '../contrib/messages/contrib-messages';
import { ReportMap } from './report-map';
import { isolate } from '../../../shared/text/hostile-text';

/**
 * The public summary of a campaign's actions (issue 18), for anyone the campaign sends to it:
 * `/p/<campaign>/actions` (`?day=` one day of action). Numbers by day, country and kind, the map, and the
 * approved photos whose consent allows the web, with a credit line where the union agreed to be named; no
 * names of people, nothing still in review. Read from the tallies by `_id` (the same as the dashboard), so a
 * busy evening costs what a quiet one does. Cached for a minute by browsers and proxies.
 */

const slugParam = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);

function SummaryPage(props: { ctx: ContribPageContext; campaign: Campaign; dashboard: Dashboard; now: Date; path: string }) {
  const { ctx, campaign, dashboard: d } = props;
  const { m, lang } = ctx;
  const numbers = new Intl.NumberFormat(lang);
  const kinds = actionKindsOf(campaign);
  const title = localisedText(campaign, campaign.titles, lang);
  const photos = publicPhotos(d.tally);
  const slug = encodeURIComponent(campaign.slug);
  const time = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(props.now) + ' UTC';
  return (
    <ContribLayout ctx={ctx} title={`${m('summary.title')} · ${title?.text ?? campaign.name}`}>
      <p class="intro">{m('summary.intro')}</p>
      <nav aria-label={m('summary.days')}>
        <ul class="summary-days">
          {['all', ...d.days.map((x) => x.day)].map((day) => (
            <li>
              <a href={`${props.path}?lang=${lang}&day=${day}`} aria-current={day === d.selected ? 'page' : undefined}>
                {day === 'all' ? m('summary.all') : new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(`${day}T12:00:00Z`))}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <p class="summary-numbers" data-testid="summary-numbers">
        <strong data-testid="summary-actions">{numbers.format(d.tally.actions)}</strong> {m('summary.actions')} ·{' '}
        <strong data-testid="summary-countries">{numbers.format(d.countries.length)}</strong> {m('summary.countries')}
      </p>
      {d.tally.actions === 0 && <p>{m('summary.nothing')}</p>}
      <h2>{m('summary.map')}</h2>
      <div class="tile-map">
        <ReportMap id="summary-map" counts={d.countries} title={m('summary.map')} label={(code, n) => m('summary.tile', { code, count: n })} />
      </div>
      <h2>{m('summary.byCountry')}</h2>
      <table class="summary-table" data-testid="summary-countries-table">
        <thead>
          <tr>
            <th scope="col">{m('summary.country')}</th>
            <th scope="col">{m('summary.count')}</th>
          </tr>
        </thead>
        <tbody>
          {d.countries.map(([code, n]) => (
            <tr>
              <td>{code}</td>
              <td>{numbers.format(n)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{m('summary.byKind')}</h2>
      <table class="summary-table">
        <thead>
          <tr>
            <th scope="col">{m('summary.byKind')}</th>
            <th scope="col">{m('summary.count')}</th>
          </tr>
        </thead>
        <tbody>
          {d.kinds.map(([kind, n]) => (
            <tr>
              <td>
                <bdi>{actionKindLabel(kinds, kind, lang)}</bdi>
              </td>
              <td>{numbers.format(n)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{m('summary.photos')}</h2>
      {photos.length === 0 ? (
        <p>{m('summary.noPhotos')}</p>
      ) : (
        <ul class="summary-photos" data-testid="summary-photos">
          {photos.map((g) => (
            <li>
              <img src={`/p/${slug}/actions/photos/${g.reportId}/${g.photoId}`} width={g.width} height={g.height} loading="lazy" alt={m('summary.photoAlt', { kind: actionKindLabel(kinds, g.kind, lang), country: g.country, date: g.date })} />
              {g.credit && (
                <p class="help" dir="auto">
                  {m('summary.credit', { credit: isolate(g.credit) })}
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
      <p class="help">{m('summary.updated', { time })}</p>
    </ContribLayout>
  );
}

export function publicSummaryRouter(deps: ServerDeps): Router {
  const router = Router();

  function send(req: Request, res: Response, html: string, status = 200): void {
    const body = Buffer.from(`<!doctype html>${html}`, 'utf8');
    res.status(status).type('html').set({ 'Cache-Control': status === 200 ? 'public, max-age=60' : 'no-store', Vary: 'Accept-Encoding, Accept-Language', 'Referrer-Policy': 'no-referrer' });
    if (req.acceptsEncodings('gzip') === 'gzip') res.set('Content-Encoding', 'gzip').send(gzipSync(body));
    else res.send(body);
  }

  router.get('/p/:slug/actions', async (req, res) => {
    const slug = String(req.params.slug);
    const path = `/p/${encodeURIComponent(slug)}/actions`;
    let campaign: Campaign;
    try {
      if (!slugParam.safeParse(slug).success) throw new AppError('campaign_not_found', 404, 'There is no such campaign.');
      campaign = await findCampaign(deps.db, slug);
    } catch (error) {
      if (!isAppError(error) || error.code !== 'campaign_not_found') throw error;
      const lang = pickLanguage(Object.keys(CONTRIB_LANGUAGES), req.query.lang, req.get('accept-language'));
      return send(req, res, render(<CampaignNotFoundPage ctx={{ lang, m: contribTranslator(lang), languages: [] }} />), 404);
    }
    const lang = pickLanguage(campaign.languages, req.query.lang, req.get('accept-language'));
    const day = typeof req.query.day === 'string' ? req.query.day : undefined;
    const ctx: ContribPageContext = {
      lang,
      m: contribTranslator(lang),
      languages: campaign.languages.filter((code) => Object.hasOwn(CONTRIB_LANGUAGES, code)).map((code) => ({ code, href: `${path}?lang=${encodeURIComponent(code)}${day ? `&day=${encodeURIComponent(day)}` : ''}` })),
    };
    const dashboard = await reportDashboard(deps.db, campaign, day, { waiting: false });
    res.set('Content-Language', lang);
    send(req, res, render(<SummaryPage ctx={ctx} campaign={campaign} dashboard={dashboard} now={deps.now()} path={path} />));
  });

  /** An approved photo whose consent allows the web; anything else is a 404. */
  router.get('/p/:slug/actions/photos/:id/:photoId', async (req, res) => {
    const slug = String(req.params.slug);
    if (!slugParam.safeParse(slug).success) throw new AppError('not_found', 404, 'There is nothing at this address.');
    const campaign = await findCampaign(deps.db, slug);
    const { photo } = await approvedPhoto(deps, campaign, String(req.params.id), String(req.params.photoId), 'public');
    await streamStoredObject(req, res, deps.storage, photo, () => new AppError('not_found', 404, 'There is nothing at this address.'));
  });

  return router;
}

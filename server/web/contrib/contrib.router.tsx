import express, { Router, type Request, type Response } from 'express';
import { gzipSync } from 'node:zlib';
import { render } from 'preact-render-to-string';
import type { VNode } from 'preact';
import { z } from 'zod';
import { AppError, isAppError } from '../../../shared/errors';
import type { Campaign, UnionLink } from '../../../shared/models/campaign.model';
import type { ServerDeps } from '../../deps';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { openCampaignLogo } from '../../services/campaign-admin.service';
import { themeCss } from '../../services/campaign-branding';
import { findCampaign, findUnionLink } from '../../services/campaign.service';
import { qrPath } from '../qr';
import { CONTRIB_ASSET_PREFIX, CONTRIB_ASSETS, firstLoadAssetBytes } from './assets/contrib-assets';
import { CampaignNotFoundPage, CampaignPage, type ContribPageContext } from './campaign.page';
import { StatusPage } from './status.page';
import { ReportPage, ReportStatusPage } from './report.page';
import { CONTRIB_LANGUAGES, contribTranslator, pickLanguage } from './messages/contrib-messages';

/** What a first visit to the campaign page loads besides the HTML. */
const FIRST_LOAD_ASSETS = ['contrib.css', 'contrib.js', 'tus.js'];

/** A contributors' page: never indexed, never cached by a shared cache, HTML gzipped when the browser takes it. */
function sendPage(req: Request, res: Response, page: VNode, status = 200): void {
  const html = Buffer.from(`<!doctype html>${render(page)}`, 'utf8');
  res.status(status).type('html').set({ 'X-Robots-Tag': 'noindex, nofollow', 'Cache-Control': 'no-store', Vary: 'Accept-Encoding, Accept-Language' });
  if (req.acceptsEncodings('gzip') === 'gzip') {
    res.set('Content-Encoding', 'gzip').send(gzipSync(html));
  } else {
    res.send(html);
  }
}

function pageContext(req: Request, offered: string[], path: string): ContribPageContext {
  const lang = pickLanguage(offered, req.query.lang, req.get('accept-language'));
  const usable = offered.filter((code) => CONTRIB_LANGUAGES[code]);
  return {
    lang,
    m: contribTranslator(lang),
    languages: usable.map((code) => ({ code, href: `${path}?lang=${encodeURIComponent(code)}` })),
  };
}

const qrBody = z.object({ text: z.string().max(400).regex(/^https?:\/\//) }).strict();

/**
 * The contributors' side: the campaign page (`/c/<campaign>`), its assets, and the QR code of the receipt.
 * Mounted by app.ts with one line.
 */
export function contribRouter(deps: ServerDeps): Router {
  const router = Router();
  const { config } = deps;

  router.get(`${CONTRIB_ASSET_PREFIX}:name`, (req, res, next) => {
    const name = String(req.params.name);
    // Own keys only: `/c-assets/__proto__` is no asset (it was a 500).
    const asset = Object.hasOwn(CONTRIB_ASSETS, name) ? CONTRIB_ASSETS[name] : undefined;
    if (!asset) return next();
    res.set({ 'Cache-Control': 'public, max-age=3600', ETag: asset.etag, Vary: 'Accept-Encoding' }).type(asset.type);
    if (req.get('if-none-match') === asset.etag) return res.status(304).end();
    if (req.acceptsEncodings('gzip') === 'gzip') return res.set('Content-Encoding', 'gzip').send(asset.gzip);
    res.send(asset.body);
  });

  /** The campaign's colours as a stylesheet of this server (the CSP allows no inline style); its address changes with them. */
  router.get('/c/:slug/theme.css', async (req, res) => {
    const campaign = await findCampaign(deps.db, String(req.params.slug));
    res.set({ 'Cache-Control': 'public, max-age=3600', 'X-Robots-Tag': 'noindex, nofollow' }).type('text/css; charset=utf-8').send(themeCss(campaign.branding));
  });

  /** The campaign's logo, from our bucket (never another site's address); a new logo has a new id, so it may be cached. */
  router.get('/c/:slug/logo/:id', async (req, res) => {
    const { logo, body } = await openCampaignLogo(deps, String(req.params.slug), String(req.params.id));
    res.set({ 'Content-Type': logo.contentType, 'Content-Length': String(logo.bytes), 'Cache-Control': 'public, max-age=86400, immutable', 'X-Robots-Tag': 'noindex, nofollow' });
    await pipeline(body, res);
  });

  function renderCampaign(req: Request, res: Response, campaign: Campaign, path: string, link?: { token: string; link: UnionLink }): void {
    const ctx = pageContext(req, campaign.languages, path);
    const theme = themeCss(campaign.branding);
    const themeHref = theme ? `/c/${encodeURIComponent(campaign.slug)}/theme.css?v=${createHash('sha256').update(theme).digest('hex').slice(0, 8)}` : null;
    const props = {
      themeHref,
      ctx,
      campaign,
      now: deps.now(),
      config: {
        maxBytes: config.upload.maxBytes,
        subtitleMaxBytes: config.upload.subtitleMaxBytes,
        maxDurationSeconds: config.media.maxDurationSeconds,
        ...(link ? { linkToken: link.token } : {}),
      },
      fixed: link ? { organisation: link.link.organisation, country: link.link.country } : null,
      reportHref: (campaign.actionDays ?? []).length > 0 ? `${path}/report?lang=${encodeURIComponent(ctx.lang)}` : null,
    };
    // The page states its own weight: the gzipped HTML (measured once without the figure) and its assets.
    const html = gzipSync(Buffer.from(`<!doctype html>${render(<CampaignPage {...props} />)}`, 'utf8')).length;
    const branding = (theme ? gzipSync(theme).length : 0) + (campaign.branding?.logo?.bytes ?? 0);
    const weightKb = Math.ceil((html + 8 + firstLoadAssetBytes(FIRST_LOAD_ASSETS) + branding) / 1024);
    res.set('Content-Language', ctx.lang);
    sendPage(req, res, <CampaignPage {...props} weightKb={weightKb} />);
  }

  router.get('/c/:slug', async (req, res) => {
    const slug = String(req.params.slug);
    try {
      const campaign = await findCampaign(deps.db, slug);
      renderCampaign(req, res, campaign, `/c/${encodeURIComponent(slug)}`);
    } catch (error) {
      if (!isAppError(error) || error.code !== 'campaign_not_found') throw error;
      const ctx = pageContext(req, Object.keys(CONTRIB_LANGUAGES), `/c/${encodeURIComponent(slug)}`);
      sendPage(req, res, <CampaignNotFoundPage ctx={ctx} />, 404);
    }
  });

  /** A union's own link: the campaign page with its organisation and country filled in. */
  router.get('/c/:slug/u/:token', async (req, res) => {
    const slug = String(req.params.slug);
    const token = String(req.params.token);
    const path = `/c/${encodeURIComponent(slug)}/u/${encodeURIComponent(token)}`;
    try {
      const campaign = await findCampaign(deps.db, slug);
      renderCampaign(req, res, campaign, path, { token, link: findUnionLink(campaign, token) });
    } catch (error) {
      if (!isAppError(error) || !['campaign_not_found', 'link_not_found', 'link_revoked'].includes(error.code)) throw error;
      const ctx = pageContext(req, Object.keys(CONTRIB_LANGUAGES), path);
      sendPage(req, res, <CampaignNotFoundPage ctx={ctx} revoked={error.code === 'link_revoked'} />, error.status);
    }
  });

  // ——— Action reports (issue 18): the form (also through a union's link) and its private status page ———
  function renderReportForm(req: Request, res: Response, campaign: Campaign, base: string, link?: { token: string; link: UnionLink }): void {
    const path = `${base}/report`;
    const ctx = pageContext(req, campaign.languages, path);
    const theme = themeCss(campaign.branding);
    const themeHref = theme ? `/c/${encodeURIComponent(campaign.slug)}/theme.css?v=${createHash('sha256').update(theme).digest('hex').slice(0, 8)}` : null;
    res.set('Content-Language', ctx.lang);
    const lang = `?lang=${encodeURIComponent(ctx.lang)}`;
    sendPage(
      req,
      res,
      <ReportPage
        ctx={ctx}
        campaign={campaign}
        now={deps.now()}
        themeHref={themeHref}
        fixed={link ? { organisation: link.link.organisation, country: link.link.country } : null}
        {...(link ? { linkToken: link.token } : {})}
        backHref={`${base}${lang}`}
        formHref={`${path}${lang}`}
      />,
    );
  }

  router.get('/c/:slug/report', async (req, res) => {
    const slug = String(req.params.slug);
    try {
      renderReportForm(req, res, await findCampaign(deps.db, slug), `/c/${encodeURIComponent(slug)}`);
    } catch (error) {
      if (!isAppError(error) || error.code !== 'campaign_not_found') throw error;
      sendPage(req, res, <CampaignNotFoundPage ctx={pageContext(req, Object.keys(CONTRIB_LANGUAGES), `/c/${encodeURIComponent(slug)}/report`)} />, 404);
    }
  });

  router.get('/c/:slug/u/:token/report', async (req, res) => {
    const slug = String(req.params.slug);
    const token = String(req.params.token);
    const base = `/c/${encodeURIComponent(slug)}/u/${encodeURIComponent(token)}`;
    try {
      const campaign = await findCampaign(deps.db, slug);
      renderReportForm(req, res, campaign, base, { token, link: findUnionLink(campaign, token) });
    } catch (error) {
      if (!isAppError(error) || !['campaign_not_found', 'link_not_found', 'link_revoked'].includes(error.code)) throw error;
      sendPage(req, res, <CampaignNotFoundPage ctx={pageContext(req, Object.keys(CONTRIB_LANGUAGES), `${base}/report`)} revoked={error.code === 'link_revoked'} />, error.status);
    }
  });

  router.get('/r/:id', (req, res) => {
    const id = String(req.params.id);
    const valid = /^[a-f0-9]{24}$/.test(id);
    const ctx = pageContext(req, Object.keys(CONTRIB_LANGUAGES), `/r/${encodeURIComponent(id)}`);
    res.set('Content-Language', ctx.lang);
    sendPage(req, res, <ReportStatusPage ctx={ctx} id={valid ? id : ''} />, valid ? 200 : 404);
  });
  // ——— end of action reports ———

  /** The private status page: the token stays in the fragment, read by the page script. */
  router.get('/s/:id', (req, res) => {
    const id = String(req.params.id);
    const ctx = pageContext(req, Object.keys(CONTRIB_LANGUAGES), `/s/${encodeURIComponent(id)}`);
    res.set('Content-Language', ctx.lang);
    sendPage(req, res, <StatusPage ctx={ctx} id={/^[a-f0-9]{24}$/.test(id) ? id : ''} />, /^[a-f0-9]{24}$/.test(id) ? 200 : 404);
  });

  /** The receipt's QR code: one SVG path for the link the page shows (the link carries the status token, so it is made here, not by a third party). */
  const smallJson = express.json({ limit: '1kb' });
  const parseSmallJson = (req: Request, res: Response, next: (error?: unknown) => void) =>
    smallJson(req, res, (error?: unknown) =>
      next(error === undefined ? undefined : new AppError('invalid_body', 400, 'The body must be JSON of at most 1 KiB.')),
    );

  router.post('/api/qr', parseSmallJson, (req, res) => {
    const parsed = qrBody.safeParse(req.body);
    if (!parsed.success) throw new AppError('invalid_body', 400, 'Send {"text": "<the link>"}: an http(s) link of at most 400 characters.');
    const qr = qrPath(parsed.data.text);
    if (!qr) throw new AppError('invalid_body', 400, 'The link is too long for a QR code.');
    res.set('Cache-Control', 'no-store').json(qr);
  });

  return router;
}

import type { Request, RequestHandler, Response, Router } from 'express';
import multer from 'multer';
import { z } from 'zod';
import { AppError, isAppError } from '../../shared/errors';
import type { ServerDeps } from '../deps';
import { publicOrigin } from '../public-origin';
import { adminCampaignView, listCampaigns, publishConsentVersion, setCampaignLogo, updateCampaign, type CampaignUpdate } from '../services/campaign-admin.service';
import { LOGO_MAX_BYTES } from '../services/campaign-logo';
import { CAMPAIGN_SLUG, createCampaign, createUnionLink, findCampaign, revokeUnionLink, type Actor, type NewCampaign } from '../services/campaign.service';
import { CampaignEditPage, CampaignListPage, type CampaignEditState, type FormError } from './pages/campaigns.pages';
import { errorMessage } from './pages/home.pages';
import { renderPage } from './render';
import { parseBody, parseParams, staffContext, staffRoute, staffSession, type StaffContext } from './staff-route';

/**
 * Campaigns, for admins: a page (/staff/admin/campaigns…) and the same as a JSON API (/staff/api/campaigns…),
 * both under the staff session, the admin role and the CSRF token (the API takes it in `X-CSRF-Token`).
 * Both call campaign.service.ts / campaign-admin.service.ts, as the CLI does: one set of checks.
 */

const admin = { roles: ['admin'] } as const;
/** Campaign texts (four languages of consent, prompts) need more than the forms' 16 KB. */
const big = { bodyLimit: '256kb' };
const slugParam = z.object({ slug: z.string().regex(CAMPAIGN_SLUG) }).strip();
const linkParams = z.object({ slug: z.string().regex(CAMPAIGN_SLUG), linkId: z.string().regex(/^[0-9a-f]{12}$/) }).strip();
const linkBody = z.object({ organisation: z.string().max(200), country: z.string().max(2), _csrf: z.string().optional() }).strict();
const campaignJson = z.object({ campaign: z.string().max(200_000), _csrf: z.string().optional() }).strict();
const consentJson = z.object({ consent: z.string().max(200_000), _csrf: z.string().optional() }).strict();
const formBody = z.record(z.string(), z.string().max(10_000));

/** The logo, read into memory (at most LOGO_MAX_BYTES: checked, cleaned and stored by the service). */
const logoUpload = multer({ storage: multer.memoryStorage(), limits: { fileSize: LOGO_MAX_BYTES, files: 1, fields: 4, parts: 5 } }).single('logo');
const readLogo: RequestHandler = (req, res, next) =>
  logoUpload(req, res, (error?: unknown) => {
    if (error === undefined) return next();
    const code = (error as { code?: string }).code;
    if (code === 'LIMIT_FILE_SIZE') return next(new AppError('logo_too_large', 413, `The logo is too large: at most ${LOGO_MAX_BYTES / 1024} KB.`));
    next(new AppError('invalid_body', 400, 'Send the logo as multipart/form-data, in the field "logo".'));
  });

function actorOf(res: Response): Actor {
  const me = staffSession(res).data;
  return { id: me.userId, email: me.email };
}

function parseJsonField(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError('invalid_campaign', 400, `The campaign was not accepted: ${field}: not JSON (${(error as Error).message}).`, {
      details: { errors: [{ field, message: `not JSON: ${(error as Error).message}` }] },
    });
  }
}

const split = (text: string | undefined, by: RegExp) => (text ?? '').split(by).map((part) => part.trim()).filter(Boolean);
/** A datetime-local value is read as UTC (the page says so); empty is "no date". */
const utc = (text: string | undefined) => (text ? (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(text) ? `${text}:00Z` : text) : null);
const colour = (text: string | undefined) => (text ? text.trim() : null);

/** The edit page's form as a change: `title.<lang>` and `prompt.<lang>` fields for each of the (new) languages. */
function formToUpdate(body: Record<string, string>): CampaignUpdate {
  const languages = split(body.languages, /[\s,]+/);
  const texts = (prefix: string) => Object.fromEntries(languages.map((l) => [l, (body[`${prefix}.${l}`] ?? '').trim()]).filter(([, text]) => text));
  return {
    name: body.name,
    status: body.status as CampaignUpdate['status'],
    languages,
    titles: texts('title'),
    prompts: texts('prompt'),
    hashtags: split(body.hashtags, /[\s,]+/),
    opensAt: utc(body.opensAt),
    closesAt: utc(body.closesAt),
    accentColour: colour(body.accentColour),
    backgroundColour: colour(body.backgroundColour),
    // Action reports' days (issue 18); a form without the field (an older page) leaves them as they are.
    ...(body.actionDays === undefined ? {} : { actionDays: split(body.actionDays, /[\s,]+/) }),
  };
}

/** The errors a campaign form shows beside itself (others are the staff error page's). */
const FORM_ERRORS = new Set(['invalid_campaign', 'campaign_exists', 'logo_missing', 'logo_unsupported_type', 'logo_invalid', 'logo_too_large', 'link_not_found', 'campaign_busy', 'invalid_body', 'body_too_large']);

function formError(ctx: StaffContext, error: unknown): FormError | null {
  if (!isAppError(error) || !FORM_ERRORS.has(error.code)) return null;
  const errors = (error.details?.errors as FormError['errors']) ?? [];
  return { message: error.code === 'invalid_campaign' ? ctx.t('error.invalid_campaign') : errorMessage(ctx, error.code, error.details), errors };
}

export function staffCampaignRoutes(router: Router, deps: ServerDeps): void {
  const edit = async (req: Request, res: Response, slug: string, state: CampaignEditState, status = 200) => {
    renderPage(res, <CampaignEditPage ctx={staffContext(res)} campaign={await findCampaign(deps.db, slug)} now={deps.now()} state={state} />, status);
  };
  /** Runs a page's change; a campaign error is shown beside its form (with the status), anything else goes on. */
  const onPage = (where: NonNullable<CampaignEditState['errorAt']>, run: (req: Request, res: Response, slug: string) => Promise<void>, extra: (req: Request) => Partial<CampaignEditState> = () => ({})): RequestHandler =>
    async (req, res) => {
      const { slug } = parseParams(slugParam, req.params);
      try {
        await run(req, res, slug);
      } catch (error) {
        const shown = formError(staffContext(res), error);
        if (!shown) throw error;
        await edit(req, res, slug, { error: shown, errorAt: where, ...extra(req) }, (error as AppError).status);
      }
    };
  const notices: Record<string, (ctx: StaffContext, req: Request) => string> = {
    saved: (ctx) => ctx.t('campaigns.saved'),
    logo: (ctx) => ctx.t('campaigns.logoSaved'),
    // Only a number from the address: anyone can send an admin a link, and the notice must not say their words.
    consent: (ctx, req) => (typeof req.query.version === 'string' && /^\d{1,6}$/.test(req.query.version) ? ctx.t('campaigns.consentPublished', { version: req.query.version }) : ctx.t('campaigns.saved')),
    revoked: (ctx) => ctx.t('campaigns.linkDone'),
  };

  // ——— the page ———
  staffRoute(router, 'get', '/staff/admin/campaigns', admin, async (_req, res) => {
    renderPage(res, <CampaignListPage ctx={staffContext(res)} campaigns={await listCampaigns(deps.db)} now={deps.now()} />);
  });

  staffRoute(router, 'post', '/staff/admin/campaigns', admin, async (req, res) => {
    const { campaign: text } = parseBody(campaignJson, req.body);
    try {
      const created = await createCampaign(deps.db, parseJsonField(text, 'campaign') as NewCampaign, deps.now(), actorOf(res));
      res.redirect(303, `/staff/admin/campaigns/${encodeURIComponent(created.slug)}?done=saved`);
    } catch (error) {
      const ctx = staffContext(res);
      const shown = formError(ctx, error);
      if (!shown) throw error;
      renderPage(res, <CampaignListPage ctx={ctx} campaigns={await listCampaigns(deps.db)} now={deps.now()} error={shown} draft={text} />, (error as AppError).status);
    }
  }, big);

  staffRoute(router, 'get', '/staff/admin/campaigns/:slug', admin, async (req, res) => {
    const { slug } = parseParams(slugParam, req.params);
    const done = typeof req.query.done === 'string' && Object.hasOwn(notices, req.query.done) ? notices[req.query.done] : undefined;
    await edit(req, res, slug, { notice: done ? done(staffContext(res), req) : null });
  });

  staffRoute(router, 'post', '/staff/admin/campaigns/:slug', admin, onPage('fields', async (req, res, slug) => {
    const body = parseBody(formBody, req.body);
    await updateCampaign(deps.db, slug, formToUpdate(body), deps.now(), actorOf(res));
    res.redirect(303, `/staff/admin/campaigns/${encodeURIComponent(slug)}?done=saved`);
  }), big);

  staffRoute(router, 'post', '/staff/admin/campaigns/:slug/logo', admin, onPage('logo', async (req, res, slug) => {
    await setCampaignLogo(deps, slug, req.file?.buffer ?? Buffer.alloc(0), deps.now(), actorOf(res));
    res.redirect(303, `/staff/admin/campaigns/${encodeURIComponent(slug)}?done=logo#logo`);
  }), { afterAccess: [readLogo] });

  staffRoute(router, 'post', '/staff/admin/campaigns/:slug/consent', admin, onPage('consent', async (req, res, slug) => {
    const { consent } = parseBody(consentJson, req.body);
    const version = await publishConsentVersion(deps.db, slug, { consent: parseJsonField(consent, 'consent') }, deps.now(), actorOf(res));
    res.redirect(303, `/staff/admin/campaigns/${encodeURIComponent(slug)}?done=consent&version=${version.version}#consent`);
  }, (req) => ({ consentDraft: typeof (req.body as Record<string, unknown>)?.consent === 'string' ? String((req.body as Record<string, unknown>).consent) : undefined })), big);

  staffRoute(router, 'post', '/staff/admin/campaigns/:slug/links', admin, onPage('links', async (req, res, slug) => {
    const body = parseBody(linkBody, req.body);
    const link = await createUnionLink(deps.db, slug, { organisation: body.organisation, country: body.country }, deps.now(), actorOf(res));
    await edit(req, res, slug, { createdLink: { organisation: body.organisation.trim(), url: absolute(req, link.path) } }, 201);
  }));

  staffRoute(router, 'post', '/staff/admin/campaigns/:slug/links/:linkId/revoke', admin, onPage('links', async (req, res, slug) => {
    const { linkId } = parseParams(linkParams, req.params);
    await revokeUnionLink(deps.db, slug, linkId, deps.now(), actorOf(res));
    res.redirect(303, `/staff/admin/campaigns/${encodeURIComponent(slug)}?done=revoked#links`);
  }));

  // ——— the JSON API (same services, same checks) ———
  const view = async (slug: string) => adminCampaignView(await findCampaign(deps.db, slug), deps.now());
  const withoutCsrf = (body: unknown) => {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
    const { _csrf: _ignored, ...rest } = body as Record<string, unknown>;
    return rest;
  };

  staffRoute(router, 'get', '/staff/api/campaigns', admin, async (_req, res) => {
    res.json({ campaigns: (await listCampaigns(deps.db)).map((c) => adminCampaignView(c, deps.now())) });
  });

  staffRoute(router, 'post', '/staff/api/campaigns', admin, async (req, res) => {
    const created = await createCampaign(deps.db, withoutCsrf(req.body) as NewCampaign, deps.now(), actorOf(res));
    res.status(201).json(adminCampaignView(created, deps.now()));
  }, big);

  staffRoute(router, 'get', '/staff/api/campaigns/:slug', admin, async (req, res) => {
    res.json(await view(parseParams(slugParam, req.params).slug));
  });

  staffRoute(router, 'post', '/staff/api/campaigns/:slug', admin, async (req, res) => {
    const { slug } = parseParams(slugParam, req.params);
    res.json(adminCampaignView(await updateCampaign(deps.db, slug, withoutCsrf(req.body), deps.now(), actorOf(res)), deps.now()));
  }, big);

  staffRoute(router, 'post', '/staff/api/campaigns/:slug/consent', admin, async (req, res) => {
    const { slug } = parseParams(slugParam, req.params);
    res.status(201).json(await publishConsentVersion(deps.db, slug, withoutCsrf(req.body), deps.now(), actorOf(res)));
  }, big);

  staffRoute(router, 'post', '/staff/api/campaigns/:slug/logo', admin, async (req, res) => {
    const { slug } = parseParams(slugParam, req.params);
    await setCampaignLogo(deps, slug, req.file?.buffer ?? Buffer.alloc(0), deps.now(), actorOf(res));
    res.status(201).json((await view(slug)).branding);
  }, { afterAccess: [readLogo] });

  staffRoute(router, 'post', '/staff/api/campaigns/:slug/links', admin, async (req, res) => {
    const { slug } = parseParams(slugParam, req.params);
    const link = await createUnionLink(deps.db, slug, withoutCsrf(req.body) as never, deps.now(), actorOf(res));
    res.status(201).json({ ...link, url: absolute(req, link.path) });
  });

  staffRoute(router, 'post', '/staff/api/campaigns/:slug/links/:linkId/revoke', admin, async (req, res) => {
    const { slug, linkId } = parseParams(linkParams, req.params);
    await revokeUnionLink(deps.db, slug, linkId, deps.now(), actorOf(res));
    res.json({ id: linkId, revoked: true });
  });

  /** PUBLIC_URL (required in production); on a developer's machine without it, this server's own address. */
  function absolute(req: Request, path: string): string {
    return new URL(path, publicOrigin(deps.config, req)).toString();
  }
}

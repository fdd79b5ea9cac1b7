import type { Request, Router } from 'express';
import { z } from 'zod';
import type { ServerDeps } from '../deps';
import { publicOrigin } from '../public-origin';
import { createFeedToken, createWebhook, disableWebhook, distributionOverview, revokeFeedToken } from '../services/distribution.service';
import { DistributionPage } from './pages/distribution.pages';
import { errorMessage } from './pages/home.pages';
import { renderPage } from './render';
import { parseBody, parseParams, staffContext, staffRoute, staffSession } from './staff-route';

const feedBody = z.object({ campaign: z.string().max(64), team: z.string().max(100), use: z.string().max(20), _csrf: z.string().optional() }).strict();
const webhookBody = feedBody.extend({ url: z.string().max(2000) }).strict();
const objectId = z.string().regex(/^[0-9a-f]{24}$/);

/** Admins: the teams' feed tokens and webhooks (made, revoked) and the webhook delivery log. */
export function staffDistributionRoutes(router: Router, deps: ServerDeps): void {
  const admin = { roles: ['admin'] } as const;
  const actorOf = (res: Parameters<Parameters<typeof staffRoute>[4]>[1]) => {
    const me = staffSession(res).data;
    return { id: me.userId, email: me.email };
  };
  const origin = (req: Request) => publicOrigin(deps.config, req);

  staffRoute(router, 'get', '/staff/admin/distribution', admin, async (_req, res) => {
    renderPage(res, <DistributionPage ctx={staffContext(res)} overview={await distributionOverview(deps)} />);
  });

  const failed = async (res: Parameters<Parameters<typeof staffRoute>[4]>[1], error: unknown) => {
    const appError = error as { code?: string; status?: number; details?: Record<string, unknown> };
    if (!appError.code || !appError.status) throw error;
    const ctx = staffContext(res);
    renderPage(res, <DistributionPage ctx={ctx} overview={await distributionOverview(deps)} error={errorMessage(ctx, appError.code, appError.details)} />, appError.status);
  };

  staffRoute(router, 'post', '/staff/admin/feeds', admin, async (req, res) => {
    const body = parseBody(feedBody, req.body);
    try {
      const { token } = await createFeedToken(deps, { ...body, createdBy: staffSession(res).data.userId }, deps.now(), actorOf(res));
      const base = `${origin(req)}/api/feeds/${token}/releases`;
      renderPage(res, <DistributionPage ctx={staffContext(res)} overview={await distributionOverview(deps)} created={{ kind: 'feed', secret: token, urls: [`${base}.json`, `${base}.atom`] }} />, 201);
    } catch (error) {
      await failed(res, error);
    }
  });

  staffRoute(router, 'post', '/staff/admin/feeds/:id/revoke', admin, async (req, res) => {
    await revokeFeedToken(deps, parseParams(objectId, req.params.id), deps.now(), actorOf(res));
    res.redirect(303, '/staff/admin/distribution');
  });

  staffRoute(router, 'post', '/staff/admin/webhooks', admin, async (req, res) => {
    const body = parseBody(webhookBody, req.body);
    try {
      const { secret } = await createWebhook(deps, { ...body, createdBy: staffSession(res).data.userId }, deps.now(), undefined, actorOf(res));
      renderPage(res, <DistributionPage ctx={staffContext(res)} overview={await distributionOverview(deps)} created={{ kind: 'webhook', secret }} />, 201);
    } catch (error) {
      await failed(res, error);
    }
  });

  staffRoute(router, 'post', '/staff/admin/webhooks/:id/disable', admin, async (req, res) => {
    await disableWebhook(deps, parseParams(objectId, req.params.id), deps.now(), actorOf(res));
    res.redirect(303, '/staff/admin/distribution');
  });
}

import { Router, type Request } from 'express';
import { z } from 'zod';
import { AppError } from '../../shared/errors';
import type { ServerDeps } from '../deps';
import { publicOrigin } from '../public-origin';
import { feedOfToken } from '../services/distribution.service';
import { atomFeed, feedItems, jsonFeed } from '../services/feeds.service';
import { mintReleaseLink } from '../services/release-links.service';
import type { ReleaseUse } from '../../shared/submissions/consent-scopes';

const fileParams = z.object({ token: z.string().max(64), id: z.string().regex(/^[0-9a-f]{24}$/), output: z.string().regex(/^[a-z0-9-]{1,40}$/) });

/** The teams' feeds: /api/feeds/<token>/releases.json and .atom, and their downloads. The token is the key. */
export function feedsRouter(deps: ServerDeps): Router {
  const router = Router();
  // Links in the feeds are absolute: PUBLIC_URL, or this server's own address (never the request's Host).
  const base = (req: Request, token: string) => `${publicOrigin(deps.config, req)}/api/feeds/${token}/releases`;

  router.get('/api/feeds/:token/releases.json', async (req, res) => {
    const feed = await feedOfToken(deps, String(req.params.token));
    res.set('Cache-Control', 'no-store').type('application/feed+json').send(JSON.stringify(jsonFeed(await feedItems(deps, feed), feed, base(req, String(req.params.token)))));
  });

  router.get('/api/feeds/:token/releases.atom', async (req, res) => {
    const feed = await feedOfToken(deps, String(req.params.token));
    res.set('Cache-Control', 'no-store').type('application/atom+xml').send(atomFeed(await feedItems(deps, feed), feed, base(req, String(req.params.token)), deps.now()));
  });

  router.get('/api/feeds/:token/releases/files/:id/:output', async (req, res) => {
    const parsed = fileParams.safeParse(req.params);
    if (!parsed.success) throw new AppError('not_found', 404, 'There is nothing at this address.');
    const feed = await feedOfToken(deps, parsed.data.token);
    const link = await mintReleaseLink(deps, { campaigns: [feed.campaign] }, parsed.data.id, parsed.data.output, feed.use as ReleaseUse);
    res.set('Cache-Control', 'no-store').redirect(303, link.url);
  });

  return router;
}

import { Router } from 'express';
import type { ServerDeps } from '../deps';
import { findCampaign, publicCampaign } from '../services/campaign.service';

export function campaignsRouter(deps: ServerDeps): Router {
  const router = Router();

  /** What the upload page needs: languages, whether it is open, and the consent text to agree to. */
  router.get('/api/campaigns/:slug', async (req, res) => {
    const campaign = await findCampaign(deps.db, String(req.params.slug));
    res.json(publicCampaign(campaign, deps.now()));
  });

  return router;
}

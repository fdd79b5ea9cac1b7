import { createHash, randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { checkWebhookHost, checkWebhookUrl, type Lookup } from '../../shared/distribution/webhook-address';
import { AppError } from '../../shared/errors';
import { cleanText } from '../../shared/text/hostile-text';
import type { FeedToken, Webhook, WebhookDelivery } from '../../shared/models/distribution.model';
import { RELEASE_USES, type ReleaseUse } from '../../shared/submissions/consent-scopes';
import type { ServerDeps } from '../deps';
import { appendAudit, type AuditEvent } from './audit.service';
import { CLI_ACTOR } from './campaign.service';

type Actor = AuditEvent['actor'];

/**
 * Admins make (and revoke) a team's feed token and webhooks, per campaign; the token and the webhook's
 * signing secret are shown once. Feed tokens are stored hashed; webhook secrets must be kept to sign.
 */

export function hashFeedToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

async function checkCampaign(deps: Pick<ServerDeps, 'db'>, slug: string): Promise<void> {
  if (!(await deps.db.campaigns.exists({ slug }))) throw new AppError('campaign_not_found', 400, `There is no campaign "${slug}".`, { details: { campaign: slug } });
}

function checkUse(use: string): ReleaseUse {
  if (!(RELEASE_USES as readonly string[]).includes(use)) throw new AppError('invalid_body', 400, `Unknown use "${use}".`);
  return use as ReleaseUse;
}

export async function createFeedToken(deps: Pick<ServerDeps, 'db'>, input: { campaign: string; team: string; use: string; createdBy: string }, now: Date, actor: Actor = CLI_ACTOR): Promise<{ token: string; feed: FeedToken }> {
  await checkCampaign(deps, input.campaign);
  const token = randomBytes(32).toString('base64url');
  const feed = await deps.db.feedTokens.create({ tokenHash: hashFeedToken(token), campaign: input.campaign, team: cleanText(input.team).trim().slice(0, 100) || 'team', use: checkUse(input.use), createdBy: input.createdBy, createdAt: now, revokedAt: null });
  await appendAudit(deps.db, { actor, action: 'feed_token_created', target: { kind: 'feed', id: feed._id.toHexString() }, details: { campaign: feed.campaign, team: feed.team, use: feed.use } }, now);
  return { token, feed: feed.toObject() };
}

/** Revokes a feed token; audited when it was live (revoking twice changes nothing). */
export async function revokeFeedToken(deps: Pick<ServerDeps, 'db'>, id: string, now: Date, actor: Actor = CLI_ACTOR): Promise<void> {
  if (!Types.ObjectId.isValid(id)) throw new AppError('not_found', 404, 'No such feed.');
  const feed = await deps.db.feedTokens.findOneAndUpdate({ _id: id, revokedAt: null }, { $set: { revokedAt: now } }).lean<FeedToken>();
  if (feed) await appendAudit(deps.db, { actor, action: 'feed_token_revoked', target: { kind: 'feed', id }, details: { campaign: feed.campaign, team: feed.team } }, now);
}

/** The feed of a token, or 404 for an unknown or revoked one (the same answer: nothing is revealed). */
export async function feedOfToken(deps: Pick<ServerDeps, 'db'>, token: string): Promise<FeedToken> {
  const feed = /^[\w-]{43}$/.test(token) ? await deps.db.feedTokens.findOne({ tokenHash: hashFeedToken(token) }).lean<FeedToken>() : null;
  if (!feed || feed.revokedAt) throw new AppError('feed_not_found', 404, 'There is no feed here (the link may have been revoked).');
  return feed;
}

/** Saves a webhook to a public address only (webhook-address.ts); `resolve` is the DNS lookup (tests give their own). */
export async function createWebhook(deps: Pick<ServerDeps, 'db' | 'config'>, input: { campaign: string; team: string; url: string; use: string; createdBy: string }, now: Date, resolve?: Lookup, actor: Actor = CLI_ACTOR): Promise<{ secret: string; webhook: Webhook }> {
  await checkCampaign(deps, input.campaign);
  const url = checkWebhookUrl(input.url, deps.config.webhooks);
  await checkWebhookHost(url, deps.config.webhooks, resolve);
  const secret = randomBytes(32).toString('base64url');
  const webhook = await deps.db.webhooks.create({ campaign: input.campaign, team: cleanText(input.team).trim().slice(0, 100) || 'team', url: url.toString(), secret, use: checkUse(input.use), createdBy: input.createdBy, createdAt: now, disabledAt: null });
  // The address's host only: a path or query can carry a token of the receiving team's.
  await appendAudit(deps.db, { actor, action: 'webhook_created', target: { kind: 'webhook', id: webhook._id.toHexString() }, details: { campaign: webhook.campaign, team: webhook.team, use: webhook.use, host: url.host } }, now);
  return { secret, webhook: webhook.toObject() };
}

/** Disables a webhook; audited when it was enabled (disabling twice changes nothing). */
export async function disableWebhook(deps: Pick<ServerDeps, 'db'>, id: string, now: Date, actor: Actor = CLI_ACTOR): Promise<void> {
  if (!Types.ObjectId.isValid(id)) throw new AppError('not_found', 404, 'No such webhook.');
  const hook = await deps.db.webhooks.findOneAndUpdate({ _id: id, disabledAt: null }, { $set: { disabledAt: now } }).lean<Webhook>();
  if (hook) await appendAudit(deps.db, { actor, action: 'webhook_disabled', target: { kind: 'webhook', id }, details: { campaign: hook.campaign, team: hook.team } }, now);
}

export interface DistributionOverview {
  feeds: FeedToken[];
  webhooks: Array<Omit<Webhook, 'secret'>>;
  deliveries: WebhookDelivery[];
}

/** What the admins' page shows: feeds, webhooks (never their secrets) and the latest deliveries. */
export async function distributionOverview(deps: Pick<ServerDeps, 'db'>, limit = 100): Promise<DistributionOverview> {
  const [feeds, webhooks, deliveries] = await Promise.all([
    deps.db.feedTokens.find().select({ tokenHash: 0 }).lean<FeedToken[]>(),
    deps.db.webhooks.find().select({ secret: 0 }).lean<Array<Omit<Webhook, 'secret'>>>(),
    deps.db.webhookDeliveries.find().sort({ createdAt: -1 }).limit(limit).lean<WebhookDelivery[]>(),
  ]);
  return { feeds, webhooks, deliveries };
}

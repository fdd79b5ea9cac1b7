import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Database } from '../db';
import type { WebhookEvent } from '../models/distribution.model';
import type { JobQueue } from '../queue/queue';
import type { Submission } from '../submissions/submission.model';

/**
 * Webhooks on release and withdrawal. Each delivery is recorded (the admins' log), its body fixed once,
 * and sent by the `deliver-webhook` job, retried with backoff by the queue. The body is signed:
 *   Solidarity-Timestamp: <unix seconds>
 *   Solidarity-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
 * A receiver recomputes the HMAC and refuses old timestamps (replays); `verifyWebhookSignature` does both.
 */

export const SIGNATURE_HEADER = 'Solidarity-Signature';
export const TIMESTAMP_HEADER = 'Solidarity-Timestamp';

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function verifyWebhookSignature(secret: string, headers: { timestamp: string | null; signature: string | null }, body: string, now: Date, toleranceSeconds = 300): boolean {
  const timestamp = Number(headers.timestamp);
  if (!Number.isInteger(timestamp) || !headers.signature) return false;
  if (Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(headers.signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** What a receiver learns: the clip's public description, never the contributor. */
export function webhookBody(event: WebhookEvent, submission: Pick<Submission, '_id' | 'title' | 'country' | 'language' | 'release'>, campaign: string, deliveryId: string, at: Date): string {
  const id = submission._id.toHexString();
  const clip =
    event === 'release'
      ? { id, title: submission.title, country: submission.country, language: submission.language, captionLanguages: submission.release?.languages ?? [], uses: submission.release?.uses ?? [], releasedAt: submission.release?.finishedAt ?? null }
      : { id };
  return JSON.stringify({ event, deliveryId, occurredAt: at.toISOString(), campaign, clip });
}

/**
 * Records and queues one delivery per active webhook of the clip's campaign whose use the clip was agreed
 * for. A withdrawal is sent only for a clip that had been released. Safe to call twice: a delivery is
 * unique per webhook, event and clip. Returns how many were queued.
 */
export async function queueWebhooks(
  deps: { db: Database; queue: Pick<JobQueue, 'enqueue'> },
  submission: Pick<Submission, '_id' | 'campaignId' | 'title' | 'country' | 'language' | 'release'>,
  event: WebhookEvent,
  now: Date,
): Promise<number> {
  if (!submission.release?.finishedAt) return 0;
  const campaign = await deps.db.campaigns.findById(submission.campaignId).select({ slug: 1 }).lean<{ slug: string }>();
  if (!campaign) return 0;
  const hooks = await deps.db.webhooks.find({ campaign: campaign.slug, disabledAt: null }).lean();
  let queued = 0;
  for (const hook of hooks) {
    if (!(submission.release.uses ?? []).includes(hook.use)) continue;
    const submissionId = submission._id.toHexString();
    let deliveryId: string;
    try {
      const delivery = await deps.db.webhookDeliveries.create({
        webhookId: hook._id,
        campaign: campaign.slug,
        event,
        submissionId,
        body: 'pending',
        status: 'pending',
        attempts: [],
        createdAt: now,
        deliveredAt: null,
      });
      deliveryId = delivery._id.toHexString();
      await deps.db.webhookDeliveries.updateOne({ _id: delivery._id }, { $set: { body: webhookBody(event, submission, campaign.slug, deliveryId, now) } });
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error;
      // Recorded already (a re-run): queue it again in case its job was lost; the job skips a delivered one.
      const existing = await deps.db.webhookDeliveries.findOne({ webhookId: hook._id, event, submissionId }).lean();
      if (!existing) continue;
      deliveryId = existing._id.toHexString();
    }
    await deps.queue.enqueue('deliver-webhook', { deliveryId });
    queued += 1;
  }
  return queued;
}

/**
 * A withdrawn clip's title leaves the delivery log: each recorded release body keeps the event, its ids and
 * dates, the clip's country, languages and uses, and loses the title (the contributor's words, cleared from
 * the clip itself by clearPersonalData). A delivery still pending is sent so, without it. Safe to run twice;
 * returns how many bodies changed.
 */
export async function forgetDeliveredTitles(db: Pick<Database, 'webhookDeliveries'>, submissionId: string): Promise<number> {
  let changed = 0;
  for (const delivery of await db.webhookDeliveries.find({ submissionId, event: 'release' }).select({ body: 1 }).lean()) {
    let body: { clip?: Record<string, unknown> };
    try {
      body = JSON.parse(delivery.body) as typeof body;
    } catch {
      continue; // 'pending': no body written yet
    }
    if (!body.clip || !Object.hasOwn(body.clip, 'title')) continue;
    delete body.clip.title;
    await db.webhookDeliveries.updateOne({ _id: delivery._id, body: delivery.body }, { $set: { body: JSON.stringify(body) } });
    changed += 1;
  }
  return changed;
}

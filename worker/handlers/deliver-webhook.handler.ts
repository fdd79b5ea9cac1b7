import type { QueueJob } from '../../shared/queue/queue';
import { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../shared/distribution/webhooks';
import type { WorkerDeps } from '../deps';

export const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * deliver-webhook: POSTs the recorded body, freshly signed with the current time, and records the attempt.
 * A 2xx answer delivers it; anything else (an error status, no answer in 10 s, a redirect) is recorded and
 * thrown, so the queue retries with backoff; after the last attempt the delivery is `failed`.
 */
export async function deliverWebhook(deps: WorkerDeps, job: QueueJob<'deliver-webhook'>, now: () => Date = () => new Date()): Promise<void> {
  const { db } = deps;
  const delivery = await db.webhookDeliveries.findById(job.payload.deliveryId).lean();
  if (!delivery || delivery.status !== 'pending') return;
  const hook = await db.webhooks.findById(delivery.webhookId).lean();
  if (!hook || hook.disabledAt) {
    await db.webhookDeliveries.updateOne({ _id: delivery._id }, { $set: { status: 'failed' }, $push: { attempts: { at: now(), status: null, error: 'webhook disabled' } } });
    return;
  }
  const at = now();
  const timestamp = Math.floor(at.getTime() / 1000);
  let status: number | null = null;
  let error: string | null = null;
  try {
    const response = await fetch(hook.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'solidarity-clips-webhooks',
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signWebhook(hook.secret, timestamp, delivery.body),
      },
      body: delivery.body,
    });
    status = response.status;
    await response.body?.cancel();
    if (status < 200 || status >= 300) error = `answered ${status}`;
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
  }
  const delivered = error === null;
  const last = !delivered && job.attempt >= job.maxAttempts;
  await db.webhookDeliveries.updateOne(
    { _id: delivery._id },
    {
      $push: { attempts: { at, status, error } },
      $set: delivered ? { status: 'delivered', deliveredAt: at } : last ? { status: 'failed' } : {},
    },
  );
  if (!delivered) {
    deps.logger.warn({ deliveryId: job.payload.deliveryId, attempt: job.attempt, status }, 'webhook delivery failed');
    if (!last) throw new Error(`webhook delivery failed: ${error}`);
  }
}

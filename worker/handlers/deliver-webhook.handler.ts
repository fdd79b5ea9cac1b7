import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkedLookup, checkWebhookUrl, type Lookup, type WebhookAddressPolicy } from '../../shared/distribution/webhook-address';
import type { QueueJob } from '../../shared/queue/queue';
import { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../shared/distribution/webhooks';
import { OPS_COUNTERS } from '../../shared/ops-counters';
import type { WorkerDeps } from '../deps';

export const DELIVERY_TIMEOUT_MS = 10_000;

/** What the admins' log says of an attempt without a 2xx: never what the network said (which ports answer inside). */
export type DeliveryError = 'refused' | 'failed';

/**
 * deliver-webhook: POSTs the recorded body, freshly signed with the current time, and records the attempt.
 * A 2xx answer delivers it; anything else (an error status, no answer in 10 s, a redirect) is recorded as
 * "failed" and thrown, so the queue retries with backoff; after the last attempt the delivery is `failed`.
 * An address that is not public (webhook-address.ts: checked on the address actually connected) is
 * "refused" before anything is sent, and the delivery is `failed` at once: retrying would not change it.
 * `resolve` is the DNS lookup (tests give their own). Failed attempts and deliveries given up are counted for
 * the alerts (WebhookDeliveriesFailing).
 */
export async function deliverWebhook(deps: WorkerDeps, job: QueueJob<'deliver-webhook'>, now: () => Date = () => new Date(), resolve?: Lookup): Promise<void> {
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
  const answer = await post(hook.url, deps.config.webhooks, {
    'content-type': 'application/json',
    'user-agent': 'solidarity-clips-webhooks',
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: signWebhook(hook.secret, timestamp, delivery.body),
  }, delivery.body, resolve);
  const status = 'status' in answer ? answer.status : null;
  const error: DeliveryError | null = 'error' in answer ? answer.error : status !== null && status >= 200 && status < 300 ? null : 'failed';
  const delivered = error === null;
  const last = !delivered && (error === 'refused' || job.attempt >= job.maxAttempts);
  await db.webhookDeliveries.updateOne(
    { _id: delivery._id },
    {
      $push: { attempts: { at, status, error } },
      $set: delivered ? { status: 'delivered', deliveredAt: at } : last ? { status: 'failed' } : {},
    },
  );
  if (!delivered) {
    deps.counters.inc(OPS_COUNTERS.webhookAttemptsFailed);
    if (last) deps.counters.inc(OPS_COUNTERS.webhookDeliveriesFailed);
    deps.logger.warn({ deliveryId: job.payload.deliveryId, attempt: job.attempt, status, error }, 'webhook delivery failed');
    if (!last) throw new Error(`webhook delivery ${error}${status === null ? '' : ` (answered ${status})`}`);
  }
}

/**
 * One POST to a checked address: the URL's form and literal address first, then the name's addresses in the
 * agent's `lookup`, which connects to the one it checked. Redirects are not followed (a 3xx is a failure).
 */
function post(raw: string, policy: WebhookAddressPolicy, headers: Record<string, string>, body: string, resolve: Lookup | undefined): Promise<{ status: number } | { error: DeliveryError }> {
  let url: URL;
  try {
    url = checkWebhookUrl(raw, policy);
  } catch {
    return Promise.resolve({ error: 'refused' });
  }
  const lookup = checkedLookup(policy, resolve) as unknown as LookupFunction;
  const agent = url.protocol === 'https:' ? new HttpsAgent({ lookup, keepAlive: false }) : new HttpAgent({ lookup, keepAlive: false });
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolveAnswer) => {
    let settled = false;
    const done = (answer: { status: number } | { error: DeliveryError }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      agent.destroy();
      resolveAnswer(answer);
    };
    const request = send(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (response) => {
      response.resume(); // the answer's body is not read: only its status counts
      done({ status: response.statusCode ?? 0 });
    });
    const timer = setTimeout(() => request.destroy(new Error('timed out')), DELIVERY_TIMEOUT_MS);
    request.on('error', (error: NodeJS.ErrnoException) => done({ error: error.code === 'WEBHOOK_ADDRESS_REFUSED' ? 'refused' : 'failed' }));
    request.end(body);
  });
}

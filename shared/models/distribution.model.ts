import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * How released clips reach the teams' own tools: feed tokens (a JSON and an Atom feed of a campaign's
 * releases, per team, revocable) and webhooks (signed POSTs on release and withdrawal, with a delivery log).
 */

export interface FeedToken {
  _id: Types.ObjectId;
  /** sha256 of the token; the token itself is shown once, when made. */
  tokenHash: string;
  campaign: string;
  /** The team it was made for (a label only). */
  team: string;
  /** The use its clips must be agreed for (consent-scopes.ts). */
  use: string;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export const feedTokenSchema = new Schema<FeedToken>(
  {
    tokenHash: { type: String, required: true },
    campaign: { type: String, required: true },
    team: { type: String, required: true },
    use: { type: String, required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    revokedAt: { type: Date, default: null },
  },
  { collection: 'feed_tokens', strict: 'throw', versionKey: false },
);
feedTokenSchema.index({ tokenHash: 1 }, { unique: true });

export const WEBHOOK_EVENTS = ['release', 'withdrawal'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export interface Webhook {
  _id: Types.ObjectId;
  campaign: string;
  team: string;
  url: string;
  /** The HMAC-SHA256 key the receiver checks signatures with (shown once, when made). */
  secret: string;
  use: string;
  createdBy: string;
  createdAt: Date;
  disabledAt: Date | null;
}

export const webhookSchema = new Schema<Webhook>(
  {
    campaign: { type: String, required: true },
    team: { type: String, required: true },
    url: { type: String, required: true },
    secret: { type: String, required: true },
    use: { type: String, required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    disabledAt: { type: Date, default: null },
  },
  { collection: 'webhooks', strict: 'throw', versionKey: false },
);
webhookSchema.index({ campaign: 1 });

export interface DeliveryAttempt {
  at: Date;
  /** HTTP status, or null when no answer came (refused, timed out). */
  status: number | null;
  error: string | null;
}

export interface WebhookDelivery {
  _id: Types.ObjectId;
  webhookId: Types.ObjectId;
  campaign: string;
  event: WebhookEvent;
  submissionId: string;
  /** The exact body sent (and signed), the same on every attempt. */
  body: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: DeliveryAttempt[];
  createdAt: Date;
  deliveredAt: Date | null;
}

export const webhookDeliverySchema = new Schema<WebhookDelivery>(
  {
    webhookId: { type: Schema.Types.ObjectId, required: true },
    campaign: { type: String, required: true },
    event: { type: String, enum: WEBHOOK_EVENTS, required: true },
    submissionId: { type: String, required: true },
    body: { type: String, required: true },
    status: { type: String, enum: ['pending', 'delivered', 'failed'], required: true },
    attempts: { type: [new Schema<DeliveryAttempt>({ at: Date, status: { type: Number, default: null }, error: { type: String, default: null } }, { _id: false })], default: [] },
    createdAt: { type: Date, required: true },
    deliveredAt: { type: Date, default: null },
  },
  { collection: 'webhook_deliveries', strict: 'throw', versionKey: false },
);
// The admins' delivery log, newest first per webhook; one delivery per webhook, event and clip.
webhookDeliverySchema.index({ webhookId: 1, createdAt: -1 });
webhookDeliverySchema.index({ webhookId: 1, event: 1, submissionId: 1 }, { unique: true });

export type FeedTokenModel = Model<FeedToken>;
export type WebhookModel = Model<Webhook>;
export type WebhookDeliveryModel = Model<WebhookDelivery>;

export function distributionModels(connection: Connection): { feedTokens: FeedTokenModel; webhooks: WebhookModel; webhookDeliveries: WebhookDeliveryModel } {
  return {
    feedTokens: connection.model<FeedToken>('FeedToken', feedTokenSchema),
    webhooks: connection.model<Webhook>('Webhook', webhookSchema),
    webhookDeliveries: connection.model<WebhookDelivery>('WebhookDelivery', webhookDeliverySchema),
  };
}

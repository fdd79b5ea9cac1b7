import mongoose, { type Connection } from 'mongoose';
import type { DataKeys } from './config';
import { captionVersionModel, type CaptionVersionModel } from './captions/caption-versions';
import { auditEntryModel, auditHeadModel, type AuditEntryModel, type AuditHeadModel } from './models/audit-entry.model';
import { campaignModel, type CampaignModel } from './models/campaign.model';
import { distributionModels, type FeedTokenModel, type WebhookDeliveryModel, type WebhookModel } from './models/distribution.model';
import { staffInviteModel, staffUserModel, type StaffInviteModel, type StaffUserModel } from './models/staff-user.model';
import { REVIEW_CLAIMS, reviewEntryModel, type ReviewEntryModel } from './submissions/review-queue';
import { submissionModel, type SubmissionModel } from './submissions/submission.model';
import { faceTrackModel, type FaceTrackModel } from './protection/face-track';
import { fingerprintModels, type FingerprintPostingModel, type ReleaseFingerprintModel } from './models/fingerprint.model';
import { verifyCheckModel, type VerifyCheckModel } from './provenance/verify-check';
// Action reports (issue 18).
import { reportModel, type ReportModel } from './reports/report.model';
import { reportReviewModel, type ReportReviewModel } from './reports/report-review';

export interface Database {
  connection: Connection;
  campaigns: CampaignModel;
  submissions: SubmissionModel;
  /** The clips waiting for review (shared/submissions/review-queue.ts). */
  reviewQueue: ReviewEntryModel;
  staffUsers: StaffUserModel;
  staffInvites: StaffInviteModel;
  auditEntries: AuditEntryModel;
  auditHead: AuditHeadModel;
  feedTokens: FeedTokenModel;
  webhooks: WebhookModel;
  webhookDeliveries: WebhookDeliveryModel;
  /** Moderators' caption versions (shared/captions/caption-versions.ts). */
  captionVersions: CaptionVersionModel;
  /** Protected clips' face tracks (shared/protection/face-track.ts), one per clip. */
  faceTracks: FaceTrackModel;
  /** Released clips' content fingerprints and their postings (shared/provenance/fingerprint-index.ts). */
  releaseFingerprints: ReleaseFingerprintModel;
  fingerprintPostings: FingerprintPostingModel;
  /** Checks of files sent to /verify (their answers, for an hour; never the files). */
  verifyChecks: VerifyCheckModel;
  // Action reports (issue 18): the reports, and those waiting for review (their tallies: shared/reports/report-tally.ts).
  reports: ReportModel;
  reportReview: ReportReviewModel;
  /**
   * Keys from the configuration, held in memory and never written to the database: the audit log's HMAC key
   * (server/services/audit.service.ts) and the TOTP secrets' encryption key (server/services/totp-secrets.ts).
   * They travel with the handle so that every writer of those collections has them.
   */
  keys: Readonly<DataKeys>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Connects to MongoDB (or FerretDB locally) and declares the models and their indexes.
 * Only features both support are used: no transactions, no TTL indexes, no $lookup.
 * Commands fail fast instead of buffering while the database is away, so an upload gets a clear 503.
 */
/** `onError` hears of the connection's errors and of a connection lost while open (the metrics count them). */
export async function connectDatabase(url: string, keys: Readonly<DataKeys> = { audit: null, totp: null }, onError?: (error: unknown) => void): Promise<Database> {
  const connection = mongoose.createConnection(url, {
    bufferCommands: false,
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 5_000,
    autoIndex: false,
  });
  await connection.asPromise();
  let closing = false;
  if (onError) {
    connection.on('error', (error: unknown) => onError(error));
    connection.on('disconnected', () => closing || onError(new Error('database connection lost')));
  }
  const campaigns = campaignModel(connection);
  const submissions = submissionModel(connection);
  const reviewQueue = reviewEntryModel(connection);
  const staffUsers = staffUserModel(connection);
  const staffInvites = staffInviteModel(connection);
  const auditEntries = auditEntryModel(connection);
  const auditHead = auditHeadModel(connection);
  const { feedTokens, webhooks, webhookDeliveries } = distributionModels(connection);
  const captionVersions = captionVersionModel(connection);
  const faceTracks = faceTrackModel(connection);
  const { releaseFingerprints, fingerprintPostings } = fingerprintModels(connection);
  const verifyChecks = verifyCheckModel(connection);
  await Promise.all([campaigns, submissions, reviewQueue, staffUsers, staffInvites, auditEntries, feedTokens, webhooks, webhookDeliveries, captionVersions, releaseFingerprints].map((model) => model.createIndexes()));
  // Moderators' claims (shared/submissions/review-claims.ts, a plain collection): a clip's claims, latest first.
  await connection.db!.collection(REVIEW_CLAIMS).createIndex({ submissionId: 1, n: -1 });
  // Action reports (issue 18).
  const reports = reportModel(connection);
  const reportReview = reportReviewModel(connection);
  await Promise.all([reports.createIndexes(), reportReview.createIndexes()]);
  return {
    connection,
    campaigns,
    submissions,
    reviewQueue,
    staffUsers,
    staffInvites,
    auditEntries,
    auditHead,
    feedTokens,
    webhooks,
    webhookDeliveries,
    captionVersions,
    faceTracks,
    releaseFingerprints,
    fingerprintPostings,
    verifyChecks,
    reports,
    reportReview,
    keys,
    async ping() {
      const db = connection.db;
      if (!db) throw new Error('database connection is not open');
      await db.command({ ping: 1 });
    },
    async close() {
      closing = true;
      await connection.close();
    },
  };
}

import type { Router } from 'express';
import { z } from 'zod';
import type { Campaign } from '../../../shared/models/campaign.model';
import { cleanText } from '../../../shared/text/hostile-text';
import type { ServerDeps } from '../../deps';
import { approveReport, claimReport, listReportQueue, maskReportPhoto, withdrawReportByStaff, openReportReview, rejectReport, reportNotFound, reportPhotoForStaff, setPhotoExcluded } from '../../services/report-review.service';
import { campaignScope } from '../../services/review.service';
import { renderPage } from '../render';
import { streamStoredObject } from '../stream-object';
import { moderatorOf, parseBody, parseParams, staffContext, staffRoute } from '../staff-route';
import { ReportQueuePage, ReportReviewPage } from './reports.pages';
import { ReportCampaignsPage, ReportDashboardPage } from './report-dashboard.pages';
import { approvedPhoto, approvedReports, campaignForStaff, reportDashboard, toCsv } from '../../services/report-dashboard.service';
import { appendAudit } from '../../services/audit.service';

/**
 * Moderating action reports (issue 18), beside the clips: the queue of reports (`/staff/queue/reports`, linked
 * from the clips' queue), a report's review page, claim, leave a photo out, approve after the photo checklist,
 * reject with a reason, and the photos themselves (through this server, never a link to S3). For moderators
 * and admins of the report's campaign; another campaign's report is a 404.
 */

const reviewers = { roles: ['admin', 'moderator'] } as const;
const idParams = z.object({ id: z.string().regex(/^[0-9a-f]{24}$/) }).strict();
const photoParams = z.object({ id: z.string().regex(/^[0-9a-f]{24}$/), photoId: z.string().regex(/^[0-9a-f]{16}$/) }).strict();
const DONE = ['approved', 'vote', 'rejected', 'photo', 'withdrawn', 'masked'] as const;
const reviewQuery = z.object({ done: z.enum(DONE).optional() }).strip();
const csrf = { _csrf: z.string().optional() };
// The checklist's answers are named `<photo id>-<check>`: checked against the report's photos by the service.
const approveBody = z.record(z.string().max(40), z.string().max(100)).refine((body) => Object.keys(body).length <= 60);
const rejectBody = z.object({ ...csrf, template: z.string().max(40).default(''), note: z.string().max(2000).default('').transform(cleanText) }).strict();
const withdrawBody = z.object({ ...csrf, confirm: z.literal('yes').optional(), reason: z.string().max(2000).default('').transform(cleanText) }).strict();
const percent = z.coerce.number().min(0).max(100);
const maskBody = z.object({ ...csrf, x: percent, y: percent, w: percent, h: percent }).strict();
const excludeBody = z.object({ ...csrf, excluded: z.enum(['yes', 'no']) }).strict();

export function staffReportReviewRoutes(router: Router, deps: ServerDeps): void {
  const reviewDeps = { db: deps.db, storage: deps.storage, logger: deps.logger, now: deps.now, claimSeconds: deps.config.review.claimSeconds };

  staffRoute(router, 'get', '/staff/queue/reports', reviewers, async (_req, res) => {
    const me = moderatorOf(res);
    const scope = await campaignScope(deps.db, me);
    const [entries, campaigns] = await Promise.all([listReportQueue(deps.db, me), deps.db.campaigns.find(scope ? { _id: { $in: scope } } : {}).lean<Campaign[]>()]);
    renderPage(res, <ReportQueuePage ctx={staffContext(res)} entries={entries} campaigns={campaigns} now={deps.now()} me={me.id} />);
  });

  staffRoute(router, 'get', '/staff/review/reports/:id', reviewers, async (req, res) => {
    const { id } = parseParams(idParams, req.params);
    const parsed = reviewQuery.safeParse(req.query);
    const done = parsed.success ? parsed.data.done : undefined;
    const me = moderatorOf(res);
    const ctx = staffContext(res);
    const view = await openReportReview(reviewDeps, me, id);
    renderPage(res, <ReportReviewPage ctx={ctx} report={view.report} campaign={view.campaign} entry={view.entry} now={deps.now()} me={me.id} notice={done ? ctx.t(`reports.decided.${done}`) : null} />);
  });

  staffRoute(router, 'post', '/staff/review/reports/:id/claim', reviewers, async (req, res) => {
    const { id } = parseParams(idParams, req.params);
    await claimReport(reviewDeps, moderatorOf(res), id);
    res.redirect(303, `/staff/review/reports/${id}`);
  });

  staffRoute(router, 'post', '/staff/review/reports/:id/photos/:photoId/exclude', reviewers, async (req, res) => {
    const { id, photoId } = parseParams(photoParams, req.params);
    const body = parseBody(excludeBody, req.body);
    await setPhotoExcluded(reviewDeps, moderatorOf(res), id, photoId, body.excluded === 'yes');
    res.redirect(303, `/staff/review/reports/${id}?done=photo`);
  });

  staffRoute(router, 'post', '/staff/review/reports/:id/photos/:photoId/mask', reviewers, async (req, res) => {
    const { id, photoId } = parseParams(photoParams, req.params);
    const { x, y, w, h } = parseBody(maskBody, req.body);
    await maskReportPhoto(reviewDeps, moderatorOf(res), id, photoId, { x, y, w, h });
    res.redirect(303, `/staff/review/reports/${id}?done=masked`);
  });

  staffRoute(router, 'post', '/staff/review/reports/:id/approve', reviewers, async (req, res) => {
    const { id } = parseParams(idParams, req.params);
    const body = parseBody(approveBody, req.body);
    const outcome = await approveReport(reviewDeps, moderatorOf(res), id, body);
    if (req.accepts(['html', 'json']) === 'json') return res.json(outcome);
    res.redirect(303, `/staff/review/reports/${id}?done=${outcome.kind}`);
  });

  staffRoute(router, 'post', '/staff/review/reports/:id/reject', reviewers, async (req, res) => {
    const { id } = parseParams(idParams, req.params);
    const body = parseBody(rejectBody, req.body);
    await rejectReport(reviewDeps, moderatorOf(res), id, { template: body.template, note: body.note });
    res.redirect(303, `/staff/review/reports/${id}?done=rejected`);
  });

  staffRoute(router, 'post', '/staff/review/reports/:id/withdraw', reviewers, async (req, res) => {
    const { id } = parseParams(idParams, req.params);
    const body = parseBody(withdrawBody, req.body);
    await withdrawReportByStaff(reviewDeps, moderatorOf(res), id, { confirm: body.confirm === 'yes', reason: body.reason });
    res.redirect(303, `/staff/review/reports/${id}?done=withdrawn`);
  });

  /** A report's photo as stored (cleaned), for the review page. */
  staffRoute(router, 'get', '/staff/review/reports/:id/photos/:photoId', reviewers, async (req, res) => {
    const { id, photoId } = parseParams(photoParams, req.params);
    const photo = await reportPhotoForStaff(reviewDeps, moderatorOf(res), id, photoId);
    await streamStoredObject(req, res, deps.storage, photo, reportNotFound);
  });
}

const pressOffice = { roles: ['admin', 'moderator', 'social'] } as const;
const slugParams = z.object({ slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/) }).strict();
const slugPhotoParams = z.object({ slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/), id: z.string().regex(/^[0-9a-f]{24}$/), photoId: z.string().regex(/^[0-9a-f]{16}$/) }).strict();
const dayQuery = z.object({ day: z.string().max(10).optional() }).strip();

/**
 * The press office's side of action reports (issue 18): a dashboard per campaign and day of action (tallies,
 * map, timeline, the approved photos), the photos to download, CSV and JSON exports. For every staff role,
 * within their campaigns.
 */
export function staffReportDashboardRoutes(router: Router, deps: ServerDeps): void {
  staffRoute(router, 'get', '/staff/reports', pressOffice, async (_req, res) => {
    const me = moderatorOf(res);
    const scope = await campaignScope(deps.db, me);
    const campaigns = (await deps.db.campaigns.find(scope ? { _id: { $in: scope } } : {}).lean<Campaign[]>()).filter((c) => (c.actionDays ?? []).length > 0);
    campaigns.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    renderPage(res, <ReportCampaignsPage ctx={staffContext(res)} campaigns={campaigns} />);
  });

  staffRoute(router, 'get', '/staff/reports/:slug', pressOffice, async (req, res) => {
    const { slug } = parseParams(slugParams, req.params);
    const parsed = dayQuery.safeParse(req.query);
    const day = parsed.success ? parsed.data.day : undefined;
    const campaign = await campaignForStaff(deps.db, moderatorOf(res), slug);
    const dashboard = await reportDashboard(deps.db, campaign, day);
    renderPage(res, <ReportDashboardPage ctx={staffContext(res)} dashboard={dashboard} now={deps.now()} publicPath={`/p/${encodeURIComponent(slug)}/actions`} />);
  });

  staffRoute(router, 'get', '/staff/reports/:slug/photos/:id/:photoId', pressOffice, async (req, res) => {
    const { slug, id, photoId } = parseParams(slugPhotoParams, req.params);
    const campaign = await campaignForStaff(deps.db, moderatorOf(res), slug);
    const { report, photo, n } = await approvedPhoto(deps, campaign, id, photoId, 'staff');
    if (req.query.download === '1') {
      // A neutral name: the day, the country and the photo's number, nothing its sender wrote.
      res.attachment(`action-${report.date}-${report.country.toLowerCase()}-${id.slice(-6)}-${n}.${photo.contentType === 'image/png' ? 'png' : 'jpg'}`);
    }
    await streamStoredObject(req, res, deps.storage, photo, reportNotFound);
  });

  for (const format of ['csv', 'json'] as const) {
    staffRoute(router, 'get', `/staff/reports/:slug/export.${format}`, pressOffice, async (req, res) => {
      const { slug } = parseParams(slugParams, req.params);
      const me = moderatorOf(res);
      const campaign = await campaignForStaff(deps.db, me, slug);
      const rows = await approvedReports(deps.db, campaign);
      await appendAudit(deps.db, { actor: { id: me.id, email: me.email }, action: 'reports_exported', target: { kind: 'campaign', id: campaign.slug }, details: { format, reports: rows.length } }, deps.now());
      res.attachment(`action-reports-${campaign.slug}.${format}`);
      if (format === 'csv') res.type('text/csv; charset=utf-8').send(toCsv(rows, (deps.config.http.publicUrl ?? '').replace(/\/$/, '')));
      else res.json({ campaign: campaign.slug, exportedAt: deps.now(), reports: rows });
    });
  }
}

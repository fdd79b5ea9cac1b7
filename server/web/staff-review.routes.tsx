import { cleanText } from '../../shared/text/hostile-text';
import { pipeline } from 'node:stream/promises';
import type { Request, Router } from 'express';
import { z } from 'zod';
import { AppError } from '../../shared/errors';
import { CAPTION_LANGUAGE, listCaptionVersions } from '../../shared/captions/caption-versions';
import type { Campaign } from '../../shared/models/campaign.model';
import { claimsFor } from '../../shared/submissions/review-claims';
import { decodeCursor, listReviewQueue, queueFacets, type QueueFilter, type ReviewEntry } from '../../shared/submissions/review-queue';
import type { ServerDeps } from '../deps';
import { auditFor, appendAudit } from '../services/audit.service';
import { LANGUAGE_CODE } from '../services/campaign.service';
import { approveClip, bulkDecide, campaignScope, claimClip, CHECKLIST, notFound, openReview, rejectClip, withdrawClip, WITHDRAW_REASON_MAX, type Checklist, type Moderator } from '../services/review.service';
import { undoable, undoDecision } from '../services/undo.service';
import { countReportQueue } from '../services/report-review.service';
import { holdEndsAt } from '../../shared/submissions/release';
import type { Submission } from '../../shared/submissions/submission.model';
import { errorMessage } from './pages/home.pages';
import { QueuePage, WAIT_CHOICES } from './pages/queue.pages';
import { ReviewPage } from './pages/review.pages';
import { renderPage } from './render';
import { streamStoredObject } from './stream-object';
import { moderatorOf, parseBody, parseParams, staffContext, staffRoute } from './staff-route';

const PAGE_SIZE = 25;
const reviewers = { roles: ['admin', 'moderator'] } as const;

/** Query strings and bodies are validated before any query: an operator object or an array is a 400. */
const filterFields = {
  campaign: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/).optional().or(z.literal('')),
  language: z.string().regex(LANGUAGE_CODE).optional().or(z.literal('')),
  country: z.string().regex(/^[A-Z]{2}$/).optional().or(z.literal('')),
  organisation: z.string().max(200).optional(),
  wait: z.enum(WAIT_CHOICES).optional().or(z.literal('')),
};
const DONE = ['approved', 'vote', 'rejected'] as const;
const idParam = z.string().regex(/^[0-9a-f]{24}$/);
const queueQuery = z
  .object({
    ...filterFields,
    after: z.string().max(80).optional(),
    done: z.enum(DONE).optional(),
    decided: idParam.optional(),
  })
  .strict();
const outputParam = z.enum(['preview', 'captionedPreview', 'poster', 'captionsVtt']);
const csrf = { _csrf: z.string().optional() };
const approveBody = z.object({ ...csrf, protectedChecked: z.literal('yes').optional(), ...Object.fromEntries(CHECKLIST.map((item) => [item, z.enum(['clear', 'present']).optional()])) }).strict();
const rejectBody = z.object({ ...csrf, template: z.string().max(40).default(''), note: z.string().max(2000).default('').transform(cleanText) }).strict();
const withdrawBody = z.object({ ...csrf, confirm: z.literal('yes').optional(), reason: z.string().max(WITHDRAW_REASON_MAX).default('').transform(cleanText) }).strict();
const bulkBody = z
  .object({
    ...csrf,
    ids: z.union([idParam, z.array(idParam).max(100)]).transform((v) => (Array.isArray(v) ? v : [v])),
    action: z.enum(['approve', 'reject']),
    template: z.string().max(40).default(''),
    note: z.string().max(2000).default('').transform(cleanText),
  })
  .strict();
// The review page and the decisions carry the queue's filter, so "next" stays within it; `done` and
// `decided` say what was just done to which clip.
const reviewQuery = z
  .object({
    ...filterFields,
    captions: z.union([z.enum(['1']), z.string().regex(CAPTION_LANGUAGE)]).optional(),
    withdrawn: z.enum(['1']).optional(),
    done: z.enum(DONE).optional(),
    decided: idParam.optional(),
    undone: z.enum(DONE).optional(),
  })
  .strict();
const nextQuery = z.object({ ...filterFields, skip: idParam.optional(), done: z.enum(DONE).optional() }).strict();
const filterQuery = z.object(filterFields).strip();
type QueueFilterQuery = z.infer<typeof filterQuery>;

/** The queue's filter as a query string (empty fields left out), to carry from page to page. */
export function filterSearch(query: QueueFilterQuery): string {
  const pairs = (Object.keys(filterFields) as Array<keyof QueueFilterQuery>).flatMap((key) => (query[key] ? [[key, query[key]] as [string, string]] : []));
  return new URLSearchParams(pairs).toString();
}
/** The filter a decision's form carries in its address; one not understood is dropped (the decision still counts). */
function carriedFilter(query: unknown): string {
  const parsed = filterQuery.safeParse(query ?? {});
  return parsed.success ? filterSearch(parsed.data) : '';
}
const withSearch = (path: string, ...parts: string[]) => {
  const search = parts.filter(Boolean).join('&');
  return search ? `${path}?${search}` : path;
};

function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  const parsed = schema.safeParse(query ?? {});
  if (!parsed.success) throw new AppError('invalid_query', 400, 'The filters were not understood.');
  return parsed.data;
}

/** After a lapsed session, a decision's form leads back (through the login) to its clip, within the same filter. */
const backToClip = { returnTo: (req: Request) => withSearch(`/staff/review/${encodeURIComponent(String(req.params.id))}`, carriedFilter(req.query)) };

/** The review queue, the review page, decisions, media streaming: for moderators and admins. */
export function staffReviewRoutes(router: Router, deps: ServerDeps): void {
  const reviewDeps = { db: deps.db, now: deps.now, claimSeconds: deps.config.review.claimSeconds, queue: deps.queue, releaseHoldSeconds: deps.config.review.releaseHoldSeconds, retention: deps.config.retention };

  /**
   * Whether the notice about a decision offers "Undo": the moderator's own decision of that kind, still undoable
   * (an approval until its release starts: `until`, when its hold ends; with no hold, none is offered).
   */
  async function undoOffer(me: Moderator, done: (typeof DONE)[number], submission: Submission | null): Promise<{ until: Date | null } | null> {
    if (!submission || (await undoable(reviewDeps, me, submission)) !== done) return null;
    if (done !== 'approved') return { until: null };
    // Without a hold (RELEASE_HOLD_SECONDS=0) the release starts as soon as a worker is free: no undo is offered.
    const hold = deps.config.review.releaseHoldSeconds;
    return hold > 0 ? { until: holdEndsAt(submission, hold) } : null;
  }

  async function scopedCampaigns(me: Moderator): Promise<Campaign[]> {
    const scope = await campaignScope(deps.db, me);
    return deps.db.campaigns.find(scope ? { _id: { $in: scope } } : {}).lean<Campaign[]>();
  }

  /** The queue's filter within the moderator's campaigns (a campaign outside them: nothing). */
  async function queueFilter(me: Moderator, query: QueueFilterQuery, campaigns?: Campaign[]): Promise<QueueFilter> {
    let campaignIds = (await campaignScope(deps.db, me)) ?? null;
    if (query.campaign) {
      const picked = (campaigns ?? (await scopedCampaigns(me))).find((c) => c.slug === query.campaign);
      campaignIds = picked ? [picked._id] : [];
    }
    return {
      campaignIds,
      language: query.language || undefined,
      country: query.country || undefined,
      organisation: query.organisation || undefined,
      minWaitMinutes: query.wait ? Number(query.wait) : undefined,
    };
  }

  staffRoute(router, 'get', '/staff/queue', reviewers, async (req, res) => {
    const query = parseQuery(queueQuery, req.query);
    const me = moderatorOf(res);
    const ctx = staffContext(res);
    const campaigns = await scopedCampaigns(me);
    const after = query.after ? decodeCursor(query.after) : null;
    if (query.after && !after) throw new AppError('invalid_query', 400, 'The filters were not understood.');
    const now = deps.now();
    const filter = await queueFilter(me, query, campaigns);
    const { campaignIds } = filter;
    const [{ entries, next }, facets, reportsWaiting] = await Promise.all([
      listReviewQueue(deps.db.reviewQueue, filter, { limit: PAGE_SIZE, after, now }),
      queueFacets(deps.db.reviewQueue, campaignIds),
      countReportQueue(deps.db, me),
    ]);
    const claims = await claimsFor(deps.db.connection, entries.map((e) => e._id.toHexString()), now);
    const { after: _after, done, decided, ...filters } = query;
    const notice = done ? ctx.t(`queue.decided.${done}`) : null;
    const decidedClip = done && decided ? await openReview(reviewDeps, me, decided).catch(() => null) : null;
    const offer = done && decided ? await undoOffer(me, done, decidedClip?.submission ?? null) : null;
    const undo = offer && decided ? { id: decided, filter: filterSearch(filters), until: offer.until } : null;
    renderPage(res, <QueuePage ctx={ctx} entries={entries} claims={claims} campaigns={campaigns} facets={facets} query={filters} next={next} paged={Boolean(after)} now={now} me={me.id} notice={notice} undo={undo} reportsWaiting={reportsWaiting} />);
  });

  // The oldest clip no one else is reviewing (other than `skip`) within the queue's filter: the "next" key
  // and where a decision leads, saying what was done (`done`, `decided`).
  staffRoute(router, 'get', '/staff/queue/next', reviewers, async (req, res) => {
    const query = parseQuery(nextQuery, req.query);
    const me = moderatorOf(res);
    const now = deps.now();
    const filter = await queueFilter(me, query);
    const search = filterSearch(query);
    const decided = query.done && query.skip ? new URLSearchParams({ done: query.done, decided: query.skip }).toString() : '';
    let after = null;
    for (let pages = 0; pages < 20; pages += 1) {
      const page = await listReviewQueue(deps.db.reviewQueue, filter, { limit: PAGE_SIZE, after, now });
      const claims = await claimsFor(deps.db.connection, page.entries.map((e) => e._id.toHexString()), now);
      const free = page.entries.find((e: ReviewEntry) => {
        const id = e._id.toHexString();
        const claim = claims.get(id);
        return id !== query.skip && (!claim || claim.by === me.id) && !e.approvals.some((v) => v.by === me.id);
      });
      if (free) return res.redirect(303, withSearch(`/staff/review/${free._id.toHexString()}`, search, decided));
      if (!page.next) break;
      after = decodeCursor(page.next);
    }
    res.redirect(303, withSearch('/staff/queue', search, decided));
  });

  staffRoute(router, 'post', '/staff/queue/bulk', reviewers, async (req, res) => {
    const body = parseBody(bulkBody, req.body);
    const me = moderatorOf(res);
    const ctx = staffContext(res);
    const decision = body.action === 'approve' ? ({ action: 'approve' } as const) : ({ action: 'reject', template: body.template, note: body.note } as const);
    const result = await bulkDecide(reviewDeps, me, body.ids, decision);
    const campaigns = await scopedCampaigns(me);
    const campaignIds = await campaignScope(deps.db, me);
    const now = deps.now();
    const [{ entries, next }, facets] = await Promise.all([
      listReviewQueue(deps.db.reviewQueue, { campaignIds }, { limit: PAGE_SIZE, now }),
      queueFacets(deps.db.reviewQueue, campaignIds),
    ]);
    const claims = await claimsFor(deps.db.connection, entries.map((e) => e._id.toHexString()), now);
    const notice = ctx.t('queue.bulkDone', { done: result.done.length, skipped: result.skipped.length });
    const notes = result.skipped.map((s) => ctx.t('queue.bulkSkipped', { id: s.id, reason: errorMessage(ctx, s.code) }));
    renderPage(res, <QueuePage ctx={ctx} entries={entries} claims={claims} campaigns={campaigns} facets={facets} query={{}} next={next} paged={false} now={now} me={me.id} notice={notice} notes={notes} />);
  });

  staffRoute(router, 'get', '/staff/review/:id', reviewers, async (req, res) => {
    const id = parseParams(idParam, req.params.id);
    const query = parseQuery(reviewQuery, req.query);
    const { captions, withdrawn } = query;
    const me = moderatorOf(res);
    const view = await openReview(reviewDeps, me, id);
    // What was just done, to which clip (its title, if it is still in this moderator's campaigns).
    const decidedView = query.done && query.decided ? await openReview(reviewDeps, me, query.decided).catch(() => null) : null;
    const undo = query.done ? await undoOffer(me, query.done, decidedView?.submission ?? null) : null;
    // This clip's own approval or rejection by this moderator, still undoable: offered on its page too.
    const ownDecision = view.submission.status === 'approved' ? 'approved' : view.submission.status === 'rejected' ? 'rejected' : null;
    const undoHere = ownDecision ? await undoOffer(me, ownDecision, view.submission) : null;
    const decision = query.done && query.decided ? { done: query.done, id: query.decided, title: decidedView?.submission.title ?? null, undo } : null;
    const audit = await auditFor(deps.db, { kind: 'submission', id });
    const captionVersions = await listCaptionVersions(deps.db.captionVersions, view.submission._id);
    const track = await deps.db.faceTracks.findById(view.submission._id).select({ version: 1, renderedVersion: 1 }).lean<{ version: number; renderedVersion: number }>();
    const protectionRendering = Boolean(track && track.renderedVersion < track.version);
    renderPage(res, <ReviewPage protectionRendering={protectionRendering} ctx={staffContext(res)} view={view} me={me.id} audit={audit} captions={captions ?? null} captionVersions={captionVersions} withdrawn={withdrawn === '1'} filter={filterSearch(query)} decision={decision} undone={query.undone ?? null} undoHere={undoHere} claimMinutes={Math.round(deps.config.review.claimSeconds / 60)} declinedDays={deps.config.retention.declinedDays} />);
  });

  staffRoute(router, 'post', '/staff/review/:id/claim', reviewers, async (req, res) => {
    parseBody(z.object(csrf).strict(), req.body);
    const id = parseParams(idParam, req.params.id);
    await claimClip(reviewDeps, moderatorOf(res), id);
    res.redirect(303, withSearch(`/staff/review/${id}`, carriedFilter(req.query)));
  }, backToClip);

  staffRoute(router, 'post', '/staff/review/:id/approve', reviewers, async (req, res) => {
    const body = parseBody(approveBody, req.body);
    const id = parseParams(idParam, req.params.id);
    const checklist = Object.fromEntries(CHECKLIST.map((item) => [item, (body as Record<string, string | undefined>)[item]])) as Checklist;
    const outcome = await approveClip(reviewDeps, moderatorOf(res), id, checklist, { protectedChecked: (body as { protectedChecked?: string }).protectedChecked === 'yes' });
    res.redirect(303, withSearch('/staff/queue/next', `skip=${id}&done=${outcome.kind === 'approved' ? 'approved' : 'vote'}`, carriedFilter(req.query)));
  }, backToClip);

  staffRoute(router, 'post', '/staff/review/:id/reject', reviewers, async (req, res) => {
    const body = parseBody(rejectBody, req.body);
    const id = parseParams(idParam, req.params.id);
    await rejectClip(reviewDeps, moderatorOf(res), id, body);
    res.redirect(303, withSearch('/staff/queue/next', `skip=${id}&done=rejected`, carriedFilter(req.query)));
  }, backToClip);

  // The moderator's own last decision taken back while nothing has left the system (undo.service.ts,
  // undoDecision): back to the clip, in review again, within the same filter. Refused with the reason (409).
  staffRoute(router, 'post', '/staff/review/:id/undo', reviewers, async (req, res) => {
    parseBody(z.object(csrf).strict(), req.body);
    const id = parseParams(idParam, req.params.id);
    const undone = await undoDecision(reviewDeps, moderatorOf(res), id);
    res.redirect(303, withSearch(`/staff/review/${id}`, `undone=${undone}`, carriedFilter(req.query)));
  }, backToClip);

  // A released (or any) clip taken down by a moderator: the same withdrawal as the contributor's, audited as theirs.
  staffRoute(router, 'post', '/staff/review/:id/withdraw', reviewers, async (req, res) => {
    const body = parseBody(withdrawBody, req.body);
    const id = parseParams(idParam, req.params.id);
    await withdrawClip({ ...reviewDeps, queue: deps.queue, logger: deps.logger }, moderatorOf(res), id, { confirm: body.confirm === 'yes', reason: body.reason });
    res.redirect(303, `/staff/review/${id}?withdrawn=1`);
  }, backToClip);

  // Whether a protected clip's protected version is drawn (its protected master made, no save of its masks waiting
  // to be drawn): the review page's notice asks, so a page left open says when the clip can be approved.
  staffRoute(router, 'get', '/staff/review/:id/protection-state', reviewers, async (req, res) => {
    const id = parseParams(idParam, req.params.id);
    const { submission } = await openReview(reviewDeps, moderatorOf(res), id);
    const track = await deps.db.faceTracks.findById(submission._id).select({ version: 1, renderedVersion: 1 }).lean<{ version: number; renderedVersion: number }>();
    const rendering = Boolean(track && track.renderedVersion < track.version);
    res.set('cache-control', 'no-store').json({ ready: Boolean(submission.outputs.protectedMaster) && !rendering, rendering });
  });

  // Media is streamed through the server (range requests for seeking), never linked from S3: the pages'
  // CSP (`default-src 'self'`) allows this origin only, and nothing reaches a browser without a session.
  staffRoute(router, 'get', '/staff/review/:id/media/:output', reviewers, async (req, res) => {
    const id = parseParams(idParam, req.params.id);
    const output = outputParam.safeParse(req.params.output);
    const { submission } = await openReview(reviewDeps, moderatorOf(res), id);
    const stored = output.success ? (submission.outputs as Record<string, { key: string; contentType: string } | undefined>)[output.data] : undefined;
    if (!stored) throw notFound();
    await streamStoredObject(req, res, deps.storage, stored, notFound);
  });

  // A POST with the session's CSRF token (staffRoute checks it), so a page elsewhere cannot make a moderator's
  // browser fetch an original. Audited once the file was sent whole: a failed or cut-off download is not one.
  staffRoute(router, 'post', '/staff/review/:id/original', reviewers, async (req, res) => {
    parseBody(z.object(csrf).strict(), req.body);
    const id = parseParams(idParam, req.params.id);
    const me = moderatorOf(res);
    const { submission } = await openReview(reviewDeps, me, id);
    if (submission.originalDeletedAt || submission.status === 'withdrawn') throw originalGone();
    const read = await deps.storage.read(submission.original.key).catch((error: unknown) => {
      const name = (error as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') throw originalGone();
      throw error;
    });
    // A name the code chose: the contributor's file name is never stored.
    res.set({ 'Content-Type': 'application/octet-stream', 'Content-Disposition': `attachment; filename="clip-${id}"`, 'X-Content-Type-Options': 'nosniff' });
    if (read.contentLength !== undefined) res.set('Content-Length', String(read.contentLength));
    try {
      await pipeline(read.body, res);
    } catch (error) {
      // The moderator's browser went away, or the storage broke off: they do not have the file.
      deps.logger.info({ err: error, submissionId: id }, 'download of an original not completed: not audited');
      return;
    }
    await appendAudit(deps.db, { actor: { id: me.id, email: me.email }, action: 'original_downloaded', target: { kind: 'submission', id }, details: { bytes: submission.original.bytes } }, deps.now());
  });
}

const originalGone = () => new AppError('original_deleted', 410, 'The original of this clip has been deleted: there is nothing to download.');

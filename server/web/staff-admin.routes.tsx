import type { RequestHandler, Router } from 'express';
import { z } from 'zod';
import { STAFF_ROLES } from '../../shared/models/staff-user.model';
import type { ServerDeps } from '../deps';
import { publicOrigin } from '../public-origin';
import { listAudit, verifyAudit } from '../services/audit.service';
import type { SessionStore } from '../services/session.service';
import { changeRole, createInvite, listStaff, setDisabled, unlockAccount } from '../services/staff.service';
import { AuditPage, InviteCreatedPage, StaffListPage } from './pages/admin.pages';
import { errorMessage, HomePage } from './pages/home.pages';
import { renderPage } from './render';
import { checkAccess, parseBody, parseParams, staffContext, staffRoute, staffSession, ALL_ROLES } from './staff-route';

/** "a, b ,c" → ["a","b","c"]; campaign slugs are checked against the database by the service. */
const campaignList = z
  .string()
  .max(2000)
  .transform((text) => text.split(',').map((slug) => slug.trim()).filter(Boolean));
const inviteBody = z.object({ email: z.email().max(320), role: z.enum(STAFF_ROLES), campaigns: campaignList.default([]), _csrf: z.string().optional() }).strict();
const roleBody = z.object({ role: z.enum(STAFF_ROLES), campaigns: campaignList.default([]), _csrf: z.string().optional() }).strict();
const accessBody = z.object({ disabled: z.enum(['true', 'false']), _csrf: z.string().optional() }).strict();
const objectId = z.string().regex(/^[0-9a-f]{24}$/);
const auditQuery = z.object({ before: z.coerce.number().int().positive().optional() });

const AUDIT_PAGE = 100;

/**
 * bull-board lays its page out with inline style attributes and sets <base href>: on its pages only, and
 * for admins only, styles may be inline. Scripts stay 'self' (bull-board's are files), nothing leaves
 * this server. Set after the app-wide CSP, so it replaces it for these paths.
 */
const DASHBOARD_CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'self'; frame-ancestors 'none'; form-action 'self'; object-src 'none'";
const dashboardCsp: RequestHandler = (_req, res, next) => {
  res.set('Content-Security-Policy', DASHBOARD_CSP);
  next();
};

/** The start page for every role, and the admins' pages: staff accounts, invitations, roles, the audit log. */
export function staffAdminRoutes(router: Router, deps: ServerDeps, sessions: SessionStore): void {
  const admin = { roles: ['admin'] } as const;

  staffRoute(router, 'get', '/staff', { roles: ALL_ROLES }, (_req, res) => {
    renderPage(res, <HomePage ctx={staffContext(res)} />);
  });

  staffRoute(router, 'get', '/staff/admin/staff', admin, async (req, res) => {
    const ctx = staffContext(res);
    const notice = req.query.done === 'role' ? ctx.t('staff.roleChanged') : req.query.done === 'access' ? ctx.t('staff.accessChanged') : req.query.done === 'unlocked' ? ctx.t('staff.unlocked') : null;
    renderPage(res, <StaffListPage ctx={ctx} users={await listStaff(deps.db)} selfId={staffSession(res).data.userId} notice={notice} />);
  });

  staffRoute(router, 'post', '/staff/admin/invites', admin, async (req, res) => {
    const body = parseBody(inviteBody, req.body);
    const me = staffSession(res).data;
    const ctx = staffContext(res);
    try {
      const { token, invite } = await createInvite(deps.db, deps.config.staff, { id: me.userId, email: me.email }, body, deps.now());
      // PUBLIC_URL (required in production); on a developer's machine without it, this server's own address.
      const link = new URL(`/staff/invite/${token}`, publicOrigin(deps.config, req)).toString();
      renderPage(res, <InviteCreatedPage ctx={ctx} email={invite.email} role={invite.role} link={link} expiresAt={invite.expiresAt} />, 201);
    } catch (error) {
      const appError = error as { code?: string; status?: number; details?: Record<string, unknown> };
      if (appError.code !== 'email_taken' && appError.code !== 'campaign_not_found') throw error;
      res.status(appError.status ?? 400);
      renderPage(res, <StaffListPage ctx={ctx} users={await listStaff(deps.db)} selfId={me.userId} error={errorMessage(ctx, appError.code, appError.details)} />, res.statusCode);
    }
  });

  staffRoute(router, 'post', '/staff/admin/staff/:id/role', admin, async (req, res) => {
    const body = parseBody(roleBody, req.body);
    const id = parseParams(objectId, req.params.id);
    const me = staffSession(res).data;
    await changeRole(deps.db, { id: me.userId, email: me.email }, id, body.role, body.campaigns, deps.now());
    // Whatever the person had open was granted under the old role.
    await sessions.destroyAllOf(id);
    res.redirect(303, '/staff/admin/staff?done=role');
  });

  staffRoute(router, 'post', '/staff/admin/staff/:id/access', admin, async (req, res) => {
    const body = parseBody(accessBody, req.body);
    const id = parseParams(objectId, req.params.id);
    const me = staffSession(res).data;
    await setDisabled(deps.db, { id: me.userId, email: me.email }, id, body.disabled === 'true', deps.now());
    await sessions.destroyAllOf(id);
    res.redirect(303, '/staff/admin/staff?done=access');
  });

  // After wrong passwords or codes: every lock on the account ends, from every address (audited).
  staffRoute(router, 'post', '/staff/admin/staff/:id/unlock', admin, async (req, res) => {
    parseBody(z.object({ _csrf: z.string().optional() }).strict(), req.body);
    const id = parseBody(objectId, req.params.id);
    const me = staffSession(res).data;
    await unlockAccount(deps.db, { id: me.userId, email: me.email }, { id }, deps.now());
    res.redirect(303, '/staff/admin/staff?done=unlocked');
  });

  // Operations: the job queue's dashboard (read-only bull-board, built in shared/queue/queue.ts) and the
  // Prometheus metrics as text (a scraper uses /metrics with the bearer token instead).
  router.use('/staff/admin/queues', checkAccess(admin), dashboardCsp, deps.queue.dashboard('/staff/admin/queues'));
  staffRoute(router, 'get', '/staff/admin/metrics', admin, async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  staffRoute(router, 'get', '/staff/admin/audit', admin, async (req, res) => {
    const { before } = parseBody(auditQuery, req.query);
    const [{ entries, total }, verdict] = await Promise.all([listAudit(deps.db, { before, limit: AUDIT_PAGE }), verifyAudit(deps.db)]);
    renderPage(res, <AuditPage ctx={staffContext(res)} entries={entries} total={total} verdict={verdict} pageSize={AUDIT_PAGE} />);
  });
}

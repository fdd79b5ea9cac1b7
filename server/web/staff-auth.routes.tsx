import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { AppError, isAppError } from '../../shared/errors';
import type { StaffUser } from '../../shared/models/staff-user.model';
import type { ServerDeps } from '../deps';
import { appendAudit } from '../services/audit.service';
import type { SessionStage, SessionStore } from '../services/session.service';
import { acceptInvite, checkPassword, checkSecondFactor, currentPendingTotpSecret, enrolTotp, findInvite, needsTotp, pendingTotpSecret } from '../services/staff.service';
import { otpauthUri } from '../services/totp.service';
import { AcceptInvitePage, CodePage, EnrolPage, LoginPage } from './pages/auth.pages';
import { errorMessage } from './pages/home.pages';
import { renderPage } from './render';
import { limitStore } from '../middleware/rate-limit';
import { createLoginLimiter } from './login-limiter';
import { clearSessionCookie, parseBody, safeNext, setSessionCookie, staffContext, staffRoute, staffSession } from './staff-route';
import { totpQrSvg } from './qr';

/** How long a refused login takes at least (scrypt alone takes about half of it at the production cost). */
const FAILED_LOGIN_FLOOR_MS = 1000;

const loginBody = z.object({ email: z.string().max(320), password: z.string().max(1024), next: z.string().max(1000).optional(), _csrf: z.string().optional() }).strict();
const codeBody = z.object({ code: z.string().max(16), _csrf: z.string().optional() }).strict();
const acceptBody = z.object({ password: z.string().max(1024), repeat: z.string().max(1024), username: z.string().optional(), _csrf: z.string().optional() }).strict();
const tokenParam = z.string().regex(/^[\w-]{43}$/);

/** Errors a form shows above itself (the person can fix them); anything else goes to the error page. */
const FORM_ERRORS = new Set(['login_failed', 'code_wrong', 'password_too_short', 'password_too_long', 'passwords_differ', 'too_many_attempts']);

/** Login (password, then the second factor or its set-up), log out, and accepting an invitation. */
export function staffAuthRoutes(router: Router, deps: ServerDeps, sessions: SessionStore): void {
  const config = deps.config.staff;
  // In Redis, shared by every server process (login-limiter.ts); the day's key is read on the app's clock.
  const limiter = createLoginLimiter(limitStore(deps.redis, deps.config.redis.queuePrefix), {
    perAddress: config.loginAttemptsPerClient,
    maxFailures: config.loginMaxFailures,
    lockoutMs: config.lockoutSeconds * 1000,
    clock: () => deps.now().getTime(),
  });

  /**
   * A refused login counts once for its address; past the limit, 429 says when to come back. Answers the error
   * to show: the refusal, or 503 when it could not be counted (the limits fail closed).
   */
  async function countRefusal(error: unknown, res: Response, addressKey: string | null): Promise<unknown> {
    if (!isAppError(error)) return error;
    let shown: unknown = error;
    if (addressKey && (error.code === 'login_failed' || error.code === 'code_wrong')) {
      shown = await limiter.refused(addressKey, deps.now()).then(
        () => error,
        (failure: unknown) => failure,
      );
    }
    if (isAppError(shown) && (shown.code === 'too_many_attempts' || shown.code === 'sessions_unavailable')) res.set('Retry-After', String(shown.details?.retryAfterSeconds ?? 900));
    return shown;
  }

  function stageFor(user: StaffUser): SessionStage {
    if (user.totp.secret) return 'password';
    return needsTotp(user.role) ? 'enrol' : 'full';
  }

  /** A new session (a new id: whatever id the browser had before is dropped) and where to go next. */
  /** A new session (a new id: whatever id the browser had before is dropped) and where to go next (`returnTo`: the page a lapsed session was on). */
  async function startSession(req: Request, res: Response, user: StaffUser, returnTo: string | null): Promise<void> {
    const previous = staffContext(res).session;
    if (previous) await sessions.destroy(previous.id);
    const stage = stageFor(user);
    const { id } = await sessions.create({ userId: user._id.toHexString(), email: user.email, role: user.role, campaigns: user.campaigns, stage, ...(returnTo && stage !== 'full' ? { returnTo } : {}) }, deps.now());
    setSessionCookie(res, id, config);
    res.redirect(303, stage === 'full' ? (returnTo ?? '/staff') : stage === 'password' ? '/staff/login/code' : '/staff/totp/enrol');
  }

  async function completeLogin(res: Response, changes: { pendingTotpSecret?: null } = {}): Promise<void> {
    const session = staffSession(res);
    const returnTo = safeNext(session.data.returnTo);
    const { id } = await sessions.rotate(session.id, session.data, { ...changes, stage: 'full', returnTo: null }, deps.now());
    setSessionCookie(res, id, config);
    res.redirect(303, returnTo ?? '/staff');
  }

  function formError(error: unknown, res: Response): string {
    if (isAppError(error) && FORM_ERRORS.has(error.code)) {
      res.status(error.status);
      return errorMessage(staffContext(res), error.code, error.details);
    }
    throw error;
  }

  staffRoute(router, 'get', '/staff/login', { public: true }, (req, res) => {
    const ctx = staffContext(res);
    // `next`: the page a lapsed session was on (the login leads back to it), said so on the page.
    const next = safeNext(req.query.next);
    if (ctx.session?.data.stage === 'full') return res.redirect(303, next ?? '/staff');
    const notice = req.query.done === 'logout' ? ctx.t('login.loggedOut') : next ? ctx.t('login.expiredBack') : null;
    renderPage(res, <LoginPage ctx={ctx} notice={notice} next={next} />);
  });

  staffRoute(router, 'post', '/staff/login', { public: true }, async (req, res) => {
    const body = parseBody(loginBody, req.body);
    const started = Date.now();
    let addressKey: string | null = null;
    try {
      addressKey = await limiter.addressKey(req.ip);
      await limiter.check(addressKey, deps.now());
      const user = await checkPassword(deps.db, config, body.email, body.password, deps.now(), limiter.guard(addressKey));
      await startSession(req, res, user, safeNext(body.next));
    } catch (caught) {
      const error = await countRefusal(caught, res, addressKey);
      // Every refused password takes as long: a failure on an existing account (counted, audited) must not
      // answer later than one for an unknown address, or the time would tell which addresses have accounts.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + FAILED_LOGIN_FLOOR_MS - Date.now())));
      const message = formError(error, res);
      renderPage(res, <LoginPage ctx={staffContext(res)} error={message} email={body.email} next={safeNext(body.next)} />, res.statusCode);
    }
  });

  staffRoute(router, 'get', '/staff/login/code', { stage: 'password' }, (_req, res) => {
    renderPage(res, <CodePage ctx={staffContext(res)} />);
  });

  staffRoute(router, 'post', '/staff/login/code', { stage: 'password' }, async (req, res) => {
    const body = parseBody(codeBody, req.body);
    const session = staffSession(res);
    let addressKey: string | null = null;
    try {
      addressKey = await limiter.addressKey(req.ip);
      await limiter.check(addressKey, deps.now());
      await checkSecondFactor(deps.db, config, session.data.userId, body.code, deps.now(), limiter.guard(addressKey));
    } catch (caught) {
      const error = await countRefusal(caught, res, addressKey);
      if (isAppError(error) && error.code === 'login_failed') {
        // Locked meanwhile: this half-session is over.
        await sessions.destroy(session.id);
        clearSessionCookie(res, config);
      }
      const message = formError(error, res);
      return renderPage(res, <CodePage ctx={staffContext(res)} error={message} />, res.statusCode);
    }
    await completeLogin(res);
  });

  staffRoute(router, 'get', '/staff/totp/enrol', { stage: 'enrol' }, async (_req, res) => {
    const ctx = staffContext(res);
    const session = staffSession(res);
    // The account's pending key, not the session's: a new login, another tab or device shows the same one.
    const secret = await pendingTotpSecret(deps.db, session.data.userId, deps.now());
    const uri = otpauthUri(secret, session.data.email, 'Solidarity Clips');
    renderPage(res, <EnrolPage ctx={ctx} secret={secret} uri={uri} qrSvg={totpQrSvg(uri)} />);
  });

  staffRoute(router, 'post', '/staff/totp/enrol', { stage: 'enrol' }, async (req, res) => {
    const body = parseBody(codeBody, req.body);
    const ctx = staffContext(res);
    const session = staffSession(res);
    const secret = await currentPendingTotpSecret(deps.db, session.data.userId, deps.now());
    if (!secret) return res.redirect(303, '/staff/totp/enrol');
    try {
      await enrolTotp(deps.db, session.data.userId, secret, body.code, deps.now());
    } catch (error) {
      const message = formError(error, res);
      const uri = otpauthUri(secret, session.data.email, 'Solidarity Clips');
      return renderPage(res, <EnrolPage ctx={ctx} secret={secret} uri={uri} qrSvg={totpQrSvg(uri)} error={message} />, res.statusCode);
    }
    await completeLogin(res, { pendingTotpSecret: null });
  });

  staffRoute(router, 'post', '/staff/logout', { session: 'any' }, async (_req, res) => {
    const session = staffSession(res);
    await sessions.destroy(session.id);
    clearSessionCookie(res, config);
    if (session.data.stage === 'full') {
      await appendAudit(deps.db, { actor: { id: session.data.userId, email: session.data.email }, action: 'logout' }, deps.now());
    }
    res.redirect(303, '/staff/login?done=logout');
  });

  staffRoute(router, 'get', '/staff/invite/:token', { public: true }, async (req, res) => {
    const token = tokenParam.safeParse(req.params.token);
    if (!token.success) throw new AppError('invite_invalid', 404, 'This invitation link is not valid.');
    const invite = await findInvite(deps.db, token.data, deps.now());
    renderPage(res, <AcceptInvitePage ctx={staffContext(res)} token={token.data} email={invite.email} role={invite.role} />);
  });

  staffRoute(router, 'post', '/staff/invite/:token', { public: true }, async (req, res) => {
    const token = tokenParam.safeParse(req.params.token);
    if (!token.success) throw new AppError('invite_invalid', 404, 'This invitation link is not valid.');
    const body = parseBody(acceptBody, req.body);
    let user: StaffUser;
    try {
      if (body.password !== body.repeat) throw new AppError('passwords_differ', 400, 'The two passwords are not the same.');
      user = await acceptInvite(deps.db, config, token.data, body.password, deps.now());
    } catch (error) {
      const message = formError(error, res);
      const invite = await findInvite(deps.db, token.data, deps.now());
      return renderPage(res, <AcceptInvitePage ctx={staffContext(res)} token={token.data} email={invite.email} role={invite.role} error={message} />, res.statusCode);
    }
    await startSession(req, res, user, null);
  });
}

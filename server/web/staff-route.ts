import { randomBytes, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { z } from 'zod';
import type { Config } from '../../shared/config';
import { AppError } from '../../shared/errors';
import type { StaffRole } from '../../shared/models/staff-user.model';
import type { SessionStore, StaffSession, SessionStage } from '../services/session.service';
import type { Moderator } from '../services/review.service';
import { staffLanguage, translator, type Translate } from './messages/messages';

/**
 * How staff routes are declared: each says who may use it, where the router is built —
 *   staffRoute(router, 'post', '/staff/admin/invites', { roles: ['admin'] }, handler)
 * and test/integration/staff-routes.test.ts walks the Express router: a route without a declaration,
 * or one that lets in a request without a session or with the wrong role, fails it.
 *
 * Access:
 *   { roles: [...] }   a full session (password and second factor) of one of these roles
 *   { stage: '…' }     a session half-way through login ('password': code to give; 'enrol': TOTP to set up)
 *   { session: 'any' } any session, at any stage (log out)
 *   { public: true }   no session needed (login, invitation links, the stylesheet)
 * Every method but GET/HEAD also needs the CSRF token (synchronizer token in the session; before
 * login a double-submit cookie).
 */

export type Access = { roles: readonly StaffRole[] } | { stage: Exclude<SessionStage, 'full'> } | { session: 'any' } | { public: true };
export const ALL_ROLES: readonly StaffRole[] = ['admin', 'moderator', 'social'];

export const ACCESS = Symbol('staff access');

export interface StaffContext {
  session: { id: string; data: StaffSession } | null;
  lang: string;
  t: Translate;
  /** The token the page's forms carry. */
  csrfToken: string;
  /** Where the language switcher leads back to: this page's address for a GET, else the start page. */
  here: string;
}

export function staffContext(res: Response): StaffContext {
  return res.locals.staff as StaffContext;
}

/** The signed-in person of a route declared with `roles` (the access check guarantees a full session). */
export function staffSession(res: Response): { id: string; data: StaffSession } {
  const session = staffContext(res).session;
  if (!session) throw new AppError('not_logged_in', 401, 'Please log in first.');
  return session;
}

/** The signed-in member as the review services take them: who they are, their role and their campaigns. */
export function moderatorOf(res: Response): Moderator {
  const { userId, email, role, campaigns } = staffSession(res).data;
  return { id: userId, email, role, campaigns };
}

type Method = 'get' | 'post';

/** Deeper than this is no form or campaign: refused before anything walks it (5000 levels overflowed the stack). */
export const MAX_BODY_DEPTH = 32;

/** Whether a parsed body nests deeper than `max` objects or arrays (counted without recursion). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, depth] = next;
    if (!item || typeof item !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return false;
}

/** A body that is too large, too deep or not understood is a clear 4xx (problem+json or an error page), not a 500. */
function bodyParsersOf(limit: string): RequestHandler[] {
  return [express.urlencoded({ extended: false, limit }), express.json({ limit })].map(
    (parse): RequestHandler =>
      (req, res, next) =>
        parse(req, res, (error?: unknown) => {
          if (error === undefined && nestedDeeperThan(req.body, MAX_BODY_DEPTH)) return next(new AppError('body_too_deep', 400, `The body nests deeper than ${MAX_BODY_DEPTH} levels.`));
          if (error === undefined) return next();
          const tooLarge = (error as { type?: string }).type === 'entity.too.large';
          next(tooLarge ? new AppError('body_too_large', 413, `The form is too large (at most ${limit}).`) : new AppError('invalid_body', 400, 'The form was incomplete or not understood.'));
        }),
  );
}

const bodyParsers = bodyParsersOf('16kb');

export interface RouteOptions {
  /** A larger body limit than the forms' 16 KB (campaign texts). */
  bodyLimit?: string;
  /**
   * Body parsers of the route's own instead of the form and JSON ones (a caption editor's long form, a
   * multipart file). Every parser runs after the access check (nobody else's body is read) and before the
   * CSRF check, which reads the parsed body.
   */
  parsers?: RequestHandler[];
  /** Run after the access check and before the CSRF check (a multipart parser: only a permitted person's upload is read). */
  afterAccess?: RequestHandler[];
  /**
   * For a form sent after the session ended: the page to come back to after logging in again (the clip a
   * decision was about). Without it such a form is a 401, as for an API client.
   */
  returnTo?: (req: Request) => string | null;
}

export function staffRoute(router: Router, method: Method, path: string, access: Access, handler: RequestHandler, options: RouteOptions = {}): void {
  const route = router.route(path);
  (route as unknown as Record<symbol, Access>)[ACCESS] = access;
  const parsers = options.parsers ?? (options.bodyLimit ? bodyParsersOf(options.bodyLimit) : bodyParsers);
  const access_ = checkAccess(access, options.returnTo);
  const chain: RequestHandler[] = method === 'get' ? [access_, handler] : [access_, ...parsers, ...(options.afterAccess ?? []), checkCsrf, handler];
  route[method](...chain);
}

/**
 * Where a login may lead back to: a staff page of this site (path and query only), never the login steps
 * themselves; anything else (another origin, `//host`, a backslash, a control character, `..` out of
 * /staff) is null.
 */
export function safeNext(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 1000 || !/^\/staff(?:[/?]|$)/.test(value) || /[\\\x00-\x1f\x7f]/.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value, 'http://staff.invalid');
  } catch {
    return null;
  }
  if (url.origin !== 'http://staff.invalid' || !/^\/staff(?:\/|$)/.test(url.pathname) || /^\/staff\/(?:login|logout|totp|invite)(?:\/|$)/.test(url.pathname)) return null;
  return url.pathname + url.search;
}

/** The login page that leads back to `next` (when it is safe, and not the start page, where a login leads anyway). */
export function loginUrl(next: string | null): string {
  const safe = safeNext(next);
  return safe && safe !== '/staff' && safe !== '/staff/' ? `/staff/login?${new URLSearchParams({ next: safe }).toString()}` : '/staff/login';
}

export function checkAccess(access: Access, returnTo?: (req: Request) => string | null): RequestHandler {
  return (req, res, next) => {
    const { session } = staffContext(res);
    if ('public' in access) return next();
    const refuse = () => {
      // Half-way through login, a page leads back to the step still to do.
      const stage = session?.data.stage;
      if (req.method === 'GET') return res.redirect(303, stage === 'password' ? '/staff/login/code' : stage === 'enrol' ? '/staff/totp/enrol' : loginUrl(req.originalUrl));
      // A form sent by a browser after the session ended: log in again, then back to its page (the page
      // script kept what was typed in it). Its body is not read.
      const back = !session && returnTo && req.accepts(['json', 'html']) === 'html' ? safeNext(returnTo(req)) : null;
      if (back) return res.redirect(303, loginUrl(back));
      next(new AppError('not_logged_in', 401, 'Please log in first.'));
    };
    if (!session) return refuse();
    if ('session' in access) return next();
    if ('stage' in access) return session.data.stage === access.stage ? next() : refuse();
    if (session.data.stage !== 'full') return refuse();
    if (!access.roles.includes(session.data.role)) return next(new AppError('forbidden', 403, 'Your role does not allow this.'));
    next();
  };
}

function sameToken(given: unknown, expected: string): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

const checkCsrf: RequestHandler = (req, res, next) => {
  const { session } = staffContext(res);
  const body = req.body as Record<string, unknown> | undefined;
  const given = req.get('x-csrf-token') ?? body?._csrf;
  const expected = session ? session.data.csrfToken : readCookies(req)[cookieNames(res).csrf];
  if (!expected || !sameToken(given, expected)) return next(new AppError('csrf_invalid', 403, 'This form was too old or did not come from this site.'));
  next();
};

/** Body validation before any query: anything but the expected plain strings (an operator object, an array) is a 400. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    throw new AppError('invalid_body', 400, 'The form was incomplete or not understood.', {
      details: { issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })) },
    });
  }
  return parsed.data;
}

/**
 * A part of the address (an id, a slug): one that does not fit cannot lead anywhere, so it is a 404 saying
 * the address is cut short or mistyped, not a form "not understood".
 */
export function parseParams<T extends z.ZodType>(schema: T, params: unknown): z.infer<T> {
  const parsed = schema.safeParse(params ?? {});
  if (!parsed.success) throw new AppError('invalid_address', 404, 'This address is cut short or mistyped: there is nothing at it.');
  return parsed.data;
}

export function readCookies(req: Request): Record<string, string> {
  // No prototype: a cookie named `constructor` or `__proto__` is just a cookie.
  const out = Object.create(null) as Record<string, string>;
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const name = part.slice(0, at).trim();
    try {
      out[name] = decodeURIComponent(part.slice(at + 1).trim());
    } catch {
      // a malformed cookie is ignored, not an error
    }
  }
  return out;
}

export function cookieNames(res: Response): { session: string; csrf: string } {
  // The __Host- prefix (Secure, Path=/, no Domain) is only allowed on https.
  return res.locals.staffSecure ? { session: '__Host-staff', csrf: '__Host-staff-csrf' } : { session: 'staff', csrf: 'staff-csrf' };
}

export function setSessionCookie(res: Response, id: string, config: Readonly<Config['staff']>): void {
  res.cookie(cookieNames(res).session, id, { httpOnly: true, secure: config.secureCookies, sameSite: 'lax', path: '/', maxAge: config.sessionAbsoluteSeconds * 1000 });
}

/**
 * The language chosen with the switcher on every staff page. A session cookie (no Max-Age: it lasts until the
 * browser is closed, across logging out and in), only for /staff, never read by scripts; it holds a language
 * code and nothing else. Without it the browser's Accept-Language decides.
 */
export const LANGUAGE_COOKIE = 'staff_lang';

export function setLanguageCookie(res: Response, language: string, config: Readonly<Config['staff']>): void {
  res.cookie(LANGUAGE_COOKIE, language, { httpOnly: true, secure: config.secureCookies, sameSite: 'lax', path: '/staff' });
}

export function clearSessionCookie(res: Response, config: Readonly<Config['staff']>): void {
  res.clearCookie(cookieNames(res).session, { httpOnly: true, secure: config.secureCookies, sameSite: 'lax', path: '/' });
}

/**
 * Loads the session (if any) and the language for every /staff request, sets `Cache-Control: no-store`,
 * and, for pages before login, a CSRF cookie whose value the forms repeat (double submit).
 */
export function staffContextMiddleware(sessions: SessionStore, config: Readonly<Config['staff']>, now: () => Date) {
  return async (req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    res.locals.staffSecure = config.secureCookies;
    const names = cookieNames(res);
    const cookies = readCookies(req);
    const id = cookies[names.session];
    let data: StaffSession | null;
    try {
      data = id ? await sessions.read(id, now()) : null;
    } catch (error) {
      throw new AppError('sessions_unavailable', 503, 'Logins are not possible right now (the session store is not reachable). Please try again in a few minutes.', { expected: false, cause: error });
    }
    const session = id && data ? { id, data } : null;
    if (id && !session) clearSessionCookie(res, config);
    let csrfToken = session?.data.csrfToken ?? cookies[names.csrf];
    if (!session && (!csrfToken || !/^[\w-]{43}$/.test(csrfToken))) {
      csrfToken = randomBytes(32).toString('base64url');
      res.cookie(names.csrf, csrfToken, { httpOnly: true, secure: config.secureCookies, sameSite: 'strict', path: '/' });
    }
    const lang = staffLanguage(cookies[LANGUAGE_COOKIE], req.get('accept-language'));
    res.set('Content-Language', lang);
    // (An address longer than the switcher takes back is replaced by the start page.)
    const here = req.method === 'GET' && req.originalUrl.length <= 2000 ? withoutNotices(req.originalUrl) : '/staff';
    const context: StaffContext = { session, lang, t: translator(lang), csrfToken: csrfToken!, here };
    res.locals.staff = context;
    next();
  };
}

/**
 * This page's address for the language switcher to lead back to, without the one-off notices a link may carry
 * (`done`, `version`, `saved`, `decided`, `withdrawn`): they say what just happened, once, and a crafted link's
 * words in them must not travel on. The queue's filters stay.
 */
export function withoutNotices(address: string): string {
  const url = new URL(address, 'http://staff.invalid');
  for (const key of ['done', 'version', 'saved', 'decided', 'withdrawn']) url.searchParams.delete(key);
  return `${url.pathname}${url.search}`;
}

import type { Router } from 'express';
import { z } from 'zod';
import type { ServerDeps } from '../deps';
import { isStaffLanguage } from './messages/messages';
import { parseBody, setLanguageCookie, staffRoute } from './staff-route';

const languageBody = z.object({ _csrf: z.string().optional(), lang: z.string().max(20), back: z.string().max(2000).default('/staff') }).strict();

/** A page of this site under /staff to return to (the switcher's `back`); anything else (another host, `//…`, `/\…`, `..`) is the start page. */
export function backTo(back: string): string {
  if (!back.startsWith('/staff') || /[\\\s]/.test(back)) return '/staff';
  const base = 'http://staff.invalid';
  let url: URL;
  try {
    url = new URL(back, base);
  } catch {
    return '/staff';
  }
  if (url.origin !== base || !(url.pathname === '/staff' || url.pathname.startsWith('/staff/'))) return '/staff';
  return url.pathname + url.search;
}

/**
 * The language switcher on every staff page (a form, so it works without script): remembers the choice in the
 * `staff_lang` cookie and goes back to the page it was on. Public, as the login page has it too; CSRF-checked
 * like every form. A language the pages do not have changes nothing.
 */
export function staffLanguageRoute(router: Router, deps: ServerDeps): void {
  staffRoute(router, 'post', '/staff/language', { public: true }, (req, res) => {
    const body = parseBody(languageBody, req.body);
    if (isStaffLanguage(body.lang)) setLanguageCookie(res, body.lang, deps.config.staff);
    res.redirect(303, backTo(body.back));
  });
}

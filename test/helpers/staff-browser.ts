import type { Browser, BrowserContext, Page } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core (installed by infra/local/setup.sh). */
export { CHROMIUM } from './contrib-browser';

/** The production server's policy (helmet, server/middleware/security-headers.ts), written out again so a change is seen. */
export const STAFF_CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/**
 * Serves every response of `page` under the production CSP (unless the server set a narrower one for the page
 * itself, the job dashboard), so a violation shows up as a console error.
 */
export async function underProductionCsp(page: Page): Promise<void> {
  await page.route('**/*', async (route) => {
    const response = await route.fetch({ maxRedirects: 0 });
    await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': response.headers()['content-security-policy'] ?? STAFF_CSP } });
  });
}

/**
 * A page signed in with a staff session (its cookie), under the production CSP; console errors (other than
 * expected 403/404/409 loads) and page errors are added to `problems`.
 */
export async function signedInStaffPage(browser: Browser, baseUrl: string, session: string, problems: string[], options: { acceptDownloads?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  await context.addCookies([{ name: 'staff', value: session, url: baseUrl }]);
  const page = await context.newPage();
  await underProductionCsp(page);
  page.on('console', (message) => {
    if (message.type() === 'error' && !/^Failed to load resource: the server responded with a status of 40[349]/.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return { context, page };
}

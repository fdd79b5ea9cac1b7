import type { Page } from 'playwright-core';

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

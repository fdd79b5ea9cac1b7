import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { screenshotter } from './screenshots';

/**
 * Real Chromium (Debian's, driven by playwright-core) for the contributors' pages: a fake camera and
 * microphone, a watch on every request (anything not to the app's origin is a problem), console errors
 * and CSP violations collected, screenshots at 360 px and 1280 px copied to where a person looks at them.
 */
export const CHROMIUM = '/usr/bin/chromium';

export interface ContribBrowser {
  browser: Browser;
  problems: string[];
  newPage(options?: { locale?: string }): Promise<{ context: BrowserContext; page: Page }>;
  shoot(page: Page, name: string): Promise<void>;
  axe(page: Page): Promise<string[]>;
  close(): Promise<void>;
}

export async function launchContribBrowser(baseUrl: string): Promise<ContribBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
  });
  const shoot = await screenshotter('contrib');
  const problems: string[] = [];
  const origin = new URL(baseUrl).origin;

  return {
    browser,
    problems,
    async newPage(options = {}) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: options.locale ?? 'en-GB' });
      const page = await context.newPage();
      page.on('request', (request) => {
        const url = request.url();
        if (!url.startsWith(origin) && !url.startsWith('blob:') && !url.startsWith('data:')) problems.push(`third-party request: ${url}`);
      });
      page.on('console', (message) => {
        if (message.type() === 'error' && !/^Failed to load resource: the server responded with a status of (4\d\d)/.test(message.text())) {
          problems.push(message.text());
        }
      });
      page.on('pageerror', (error) => problems.push(error.message));
      return { context, page };
    },
    shoot,
    async axe(page) {
      const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
      return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
    },
    async close() {
      await browser.close();
    },
  };
}

import AxeBuilder from '@axe-core/playwright';
import { copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Real Chromium (Debian's, driven by playwright-core) for the contributors' pages: a fake camera and
 * microphone, a watch on every request (anything not to the app's origin is a problem), console errors
 * and CSP violations collected, screenshots at 360 px and 1280 px copied to where a person looks at them.
 */
export const CHROMIUM = '/usr/bin/chromium';
const SCREENS_COPY = process.env.CONTRIB_SCREENS_DIR ?? '/work/wt/contrib-screens';

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
  const screens = await mkdtemp(join(tmpdir(), 'contrib-screens-'));
  let copyTo: string | null = SCREENS_COPY;
  await mkdir(SCREENS_COPY, { recursive: true }).catch(() => {
    copyTo = null;
  });
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
    async shoot(page, name) {
      for (const [label, width, height] of [['phone', 360, 740], ['desktop', 1280, 800]] as const) {
        await page.setViewportSize({ width, height });
        const file = join(screens, `${name}-${label}-${width}.png`);
        await page.screenshot({ path: file, fullPage: true });
        if (copyTo) await copyFile(file, join(copyTo, `${name}-${label}-${width}.png`));
      }
      await page.setViewportSize({ width: 1280, height: 800 });
    },
    async axe(page) {
      const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
      return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
    },
    async close() {
      await browser.close();
    },
  };
}

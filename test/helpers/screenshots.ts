import { copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

export type Shoot = (page: Page, shot: string) => Promise<void>;

/**
 * Screenshots of a page at phone (360 px) and desktop (1280 px) widths, full length, into a temporary folder
 * and, when SCREENSHOTS_DIR is set, into SCREENSHOTS_DIR/<name>/ for a person to look at.
 */
export async function screenshotter(name: string): Promise<Shoot> {
  const screens = await mkdtemp(join(tmpdir(), `${name}-screens-`));
  const copyTo = process.env.SCREENSHOTS_DIR ? join(process.env.SCREENSHOTS_DIR, name) : null;
  if (copyTo) await mkdir(copyTo, { recursive: true });
  return async (page, shot) => {
    for (const [label, width, height] of [['phone', 360, 740], ['desktop', 1280, 800]] as const) {
      await page.setViewportSize({ width, height });
      const file = join(screens, `${shot}-${label}-${width}.png`);
      await page.screenshot({ path: file, fullPage: true });
      if (copyTo) await copyFile(file, join(copyTo, `${shot}-${label}-${width}.png`));
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  };
}

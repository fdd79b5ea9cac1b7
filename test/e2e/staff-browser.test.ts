import { chromium, type Browser, type Page } from 'playwright-core';
import { createAdmin } from '../../server/services/staff.service';
import { base32Decode, hotp, totpStep } from '../../server/services/totp.service';
import type { StaffUser } from '../../shared/models/staff-user.model';
import { startTestApp, type TestApp } from '../helpers/test-env';
import { screenshotter, type Shoot } from '../helpers/screenshots';
import { CHROMIUM, STAFF_CSP } from '../helpers/staff-browser';
import { waitUntil } from '../helpers/wait-until';

/**
 * In real Chromium (Debian's, driven by playwright-core): the first admin, made as the command line
 * makes it, logs in and sets up TOTP; invites a moderator; the moderator opens the one-time link, sets
 * a password, sets up TOTP, logs out and in again. The pages run under a strict Content-Security-Policy
 * (added here as the production server sends it), so an inline script or style would show as an error.
 * Screenshots at phone (360 px) and desktop (1280 px) widths go to the test's temporary folder and to
 * SCREENSHOTS_DIR/staff/ when SCREENSHOTS_DIR is set, for a person to look at.
 */

const PASSWORD = 'a long browser password';

describe('staff pages in a real browser', () => {
  let app: TestApp;
  let browser: Browser;
  let shoot: Shoot;
  const problems: string[] = [];

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' });
    browser = await chromium.launch({ executablePath: CHROMIUM });
    shoot = await screenshotter('staff');
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    // The production server sends a strict CSP (helmet); send the same here so a violation shows up.
    await page.route('**/*', async (route) => {
      const response = await route.fetch({ maxRedirects: 0 });
      await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': STAFF_CSP } });
    });
    page.on('console', (message) => {
      // A page answered 403/404 on purpose is logged by Chromium too; anything else (a CSP violation) is a problem.
      if (message.type() === 'error' && !/^Failed to load resource: the server responded with a status of 40[34]/.test(message.text())) problems.push(message.text());
    });
    page.on('response', (response) => {
      if (response.url().includes('/staff/assets/') && response.status() !== 200) problems.push(`${response.url()}: ${response.status()}`);
    });
    page.on('pageerror', (error) => problems.push(error.message));
    return page;
  }


  /** A code for the account's secret the server has not seen yet (a code works once). */
  async function codeFor(email: string, secret: string): Promise<string> {
    return waitUntil(async () => {
      const user = (await app.services.db.staffUsers.findOne({ email }).lean<StaffUser>())!;
      const step = totpStep(new Date());
      if (!user.totp.secret || user.totp.lastStep < step) return hotp(base32Decode(secret), step);
      if (user.totp.lastStep === step) return hotp(base32Decode(secret), step + 1); // accepted: one step ahead
      // lastStep is already ahead: wait for the clock to catch up (at most one step)
      return null;
    }, { timeoutMs: 65_000, intervalMs: 1000, what: `a TOTP step ${email} has not used yet` });
  }

  async function enrol(page: Page, email: string): Promise<void> {
    await page.getByRole('heading', { name: 'Set up your second factor' }).waitFor();
    await page.locator('.qr svg').waitFor();
    await shoot(page, email.startsWith('admin') ? '02-admin-enrol-totp' : '06-moderator-enrol-totp');
    const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await page.getByRole('textbox', { name: 'Code' }).fill(await codeFor(email, secret));
    await page.getByRole('button', { name: 'Finish set-up' }).click();
    await page.getByRole('heading', { name: 'Welcome' }).waitFor();
    (page as Page & { totpSecret?: string }).totpSecret = secret;
  }

  async function login(page: Page, email: string, password: string): Promise<void> {
    await page.goto(`${app.baseUrl}/staff/login`);
    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  test('an admin created from the command line invites a moderator, who sets a password and TOTP, logs out and in again', async () => {
    await createAdmin(app.services.db, app.config.staff, 'admin@example.org', PASSWORD, new Date());

    // The admin: login page, password, then TOTP set-up (required for admins).
    const admin = await newPage();
    await admin.goto(`${app.baseUrl}/staff`);
    await admin.getByRole('heading', { name: 'Staff login' }).waitFor();
    await shoot(admin, '01-login');
    // The stylesheet applied under the CSP (the script's effect is checked by the copy button below).
    expect(await admin.locator('header.top').evaluate((el) => getComputedStyle(el).borderBottomStyle)).toBe('solid');
    await login(admin, 'admin@example.org', PASSWORD);
    await enrol(admin, 'admin@example.org');
    await shoot(admin, '03-admin-home');

    // Invite a moderator limited to one campaign.
    await app.services.db.campaigns.create({ slug: 'demo', name: 'Demo', languages: ['en'], consentVersions: [], status: 'open' });
    await admin.getByRole('link', { name: 'Staff', exact: true }).click();
    await admin.getByRole('heading', { name: 'Staff accounts' }).waitFor();
    await admin.getByLabel('E-mail', { exact: true }).fill('moderator@example.org');
    await admin.getByLabel('Role', { exact: true }).selectOption('moderator');
    await admin.locator('#invite-campaigns').fill('demo');
    await admin.getByRole('button', { name: 'Create invitation link' }).click();
    await admin.getByTestId('invite-link').waitFor();
    await admin.getByRole('button', { name: 'Copy the link' }).waitFor(); // shown by the page script
    await shoot(admin, '04-invite-link');
    const link = (await admin.getByTestId('invite-link').textContent())!.trim();
    expect(link).toMatch(new RegExp(`^${app.baseUrl}/staff/invite/[\\w-]{43}$`));

    // The moderator, in a browser of their own: the link, a password, TOTP.
    const moderator = await newPage();
    await moderator.goto(link);
    await moderator.getByRole('heading', { name: 'Join Solidarity Clips' }).waitFor();
    await shoot(moderator, '05-accept-invite');
    await moderator.getByLabel('New password').fill(PASSWORD);
    await moderator.getByLabel('The same password again').fill(PASSWORD);
    await moderator.getByRole('button', { name: 'Create my account' }).click();
    await enrol(moderator, 'moderator@example.org');
    await moderator.getByText('Logged in as moderator@example.org (Moderator).').waitFor();
    await moderator.getByText('Your campaigns: demo.').waitFor();
    expect(await moderator.getByRole('link', { name: 'Audit log' }).count()).toBe(0);

    // The link worked once.
    const again = await newPage();
    await again.goto(link);
    await again.getByText('This invitation link is not valid').waitFor();

    // Log out, and in again: password, then a code from the app.
    await moderator.getByRole('button', { name: 'Log out' }).click();
    await moderator.getByText('You are logged out.').waitFor();
    await login(moderator, 'moderator@example.org', PASSWORD);
    await moderator.getByRole('heading', { name: 'Second step: your code' }).waitFor();
    await shoot(moderator, '07-moderator-code');
    const secret = (moderator as Page & { totpSecret?: string }).totpSecret!;
    await moderator.getByRole('textbox', { name: 'Code' }).fill(await codeFor('moderator@example.org', secret));
    await moderator.getByRole('button', { name: 'Continue' }).click();
    await moderator.getByRole('heading', { name: 'Welcome' }).waitFor();
    await shoot(moderator, '08-moderator-home');
    // A moderator who types an admin address gets the refusal page, not the page.
    await moderator.goto(`${app.baseUrl}/staff/admin/audit`);
    await moderator.getByText('Your role does not allow this.').waitFor();

    // The admin sees the whole story in the audit log, chain intact.
    await admin.goto(`${app.baseUrl}/staff/admin/staff`);
    await admin.getByRole('cell', { name: 'moderator@example.org' }).waitFor();
    await shoot(admin, '09-staff-list');
    await admin.getByRole('link', { name: 'Audit log' }).first().click();
    await admin.getByText(/The chain is intact: \d+ entries verified/).waitFor();
    await shoot(admin, '10-audit-log');
    const actions = await admin.locator('td[data-action]').evaluateAll((cells) => cells.map((cell) => cell.getAttribute('data-action')));
    await admin.getByText('invitation accepted').waitFor();
    expect(actions).toEqual(expect.arrayContaining(['admin_created', 'totp_enrolled', 'invite_created', 'invite_accepted', 'login', 'logout']));

    expect(problems).toEqual([]);
  }, 180_000);
});

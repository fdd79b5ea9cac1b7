import { formatFileSize } from '../../server/web/messages/messages';
import { clipInReview } from '../helpers/review-fixtures';
import { loginAs, makeStaff, testClock, type StaffClient } from '../helpers/staff-client';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

/** Where the staff pages know what went wrong, they say it, not "The form was incomplete or not understood". */
describe('specific errors and sizes on the staff pages', () => {
  let app: TestApp;
  let admin: StaffClient;
  const clock = testClock();
  const GENERIC = 'The form was incomplete or not understood';

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedDemoCampaign(app.deps);
    admin = await loginAs(app, clock, await makeStaff(app, clock.now, 'admin'));
  });

  afterAll(async () => {
    await app?.close();
  });

  test.each([
    '/staff/review/not-an-id',
    '/staff/review/0123456789abcdef0123456',
    '/staff/review/zzzzzzzzzzzzzzzzzzzzzzzz/captions',
    '/staff/gallery/short/files/preview',
    '/staff/admin/campaigns/Not_A_Slug',
  ])('when an address has a bad id or slug (%s), then the page says the address is cut short or mistyped, with a 404', async (path) => {
    const answer = await admin.get(path);
    expect(answer.status).toBe(404);
    expect(answer.html).toContain('This address is cut short or mistyped');
    expect(answer.html).not.toContain(GENERIC);
  });

  test('when the ZIP form is sent with no clip ticked, then the page says to tick at least one', async () => {
    for (const path of ['/staff/gallery/zip', '/staff/gallery/zip?shape=&use=social']) {
      const answer = await admin.get(path);
      expect([path, answer.status]).toEqual([path, 400]);
      expect(answer.html).toContain('Tick at least one clip for the ZIP.');
      expect(answer.html).not.toContain(GENERIC);
    }
  });

  test('when a file is under 0.1 MB, then its size is shown in kB, never "0.0 MB"', async () => {
    expect(formatFileSize('en', 48_213)).toBe('48 kB');
    expect(formatFileSize('en', 300)).toBe('1 kB');
    expect(formatFileSize('en', 0)).toBe('0 kB');
    expect(formatFileSize('en', 99_999)).toBe('100 kB');
    expect(formatFileSize('en', 100_000)).toBe('0.1 MB');
    expect(formatFileSize('en', 12_345_678)).toBe('12.3 MB');
    const { id } = await clipInReview(app);
    // A short phone clip's size, as the upload recorded it.
    await app.services.db.submissions.updateOne({ _id: id }, { $set: { 'original.bytes': 48_213 } });
    const page = await admin.get(`/staff/review/${id}`);
    expect(page.html).toContain('<dd>48 kB</dd>');
    expect(page.html).not.toContain('0.0 MB');
  });
});

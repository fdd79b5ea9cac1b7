import { loginUrl, safeNext } from '../../server/web/staff-route';

/** Where a login may lead back to: only a staff page of this site. */
describe('the page a login leads back to', () => {
  test.each([
    ['/staff/review/0123456789abcdef01234567', '/staff/review/0123456789abcdef01234567'],
    ['/staff/review/0123456789abcdef01234567?campaign=demo&language=be', '/staff/review/0123456789abcdef01234567?campaign=demo&language=be'],
    ['/staff/queue?organisation=%D0%91%D0%9D%D0%9F', '/staff/queue?organisation=%D0%91%D0%9D%D0%9F'],
    ['/staff', '/staff'],
  ])('when next is %s, then it is kept as %s', (next, kept) => {
    expect(safeNext(next)).toBe(kept);
  });

  test.each([
    'https://evil.example/staff',
    '//evil.example/staff',
    '/\\evil.example',
    '/staff\\..\\..\\x',
    '/staffevil',
    '/staff/../c/demo',
    '/staff/%2e%2e/c/demo',
    '/staff/login',
    '/staff/login/code',
    '/staff/logout',
    '/staff/totp/enrol',
    '/staff/invite/abc',
    '/staff/queue\r\nLocation: https://evil.example',
    'javascript:alert(1)',
    '',
    `/staff/${'a'.repeat(1000)}`,
  ])('when next is %j, then it is refused', (next) => {
    expect(safeNext(next)).toBeNull();
  });

  test('when next is not a string (an array or object from the query), then it is refused', () => {
    expect(safeNext(['/staff/queue'])).toBeNull();
    expect(safeNext({ toString: () => '/staff/queue' })).toBeNull();
    expect(safeNext(undefined)).toBeNull();
  });

  test('the login page carries a safe next, and none for the start page or an unsafe one', () => {
    expect(loginUrl('/staff/review/0123456789abcdef01234567?campaign=demo')).toBe('/staff/login?next=%2Fstaff%2Freview%2F0123456789abcdef01234567%3Fcampaign%3Ddemo');
    expect(loginUrl('/staff')).toBe('/staff/login');
    expect(loginUrl('//evil.example/')).toBe('/staff/login');
  });
});

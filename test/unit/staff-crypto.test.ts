import { hashPassword, needsRehash, verifyPassword } from '../../server/services/password.service';
import { base32Decode, base32Encode, generateTotpSecret, hotp, matchTotp, otpauthUri, totpCode, totpStep } from '../../server/services/totp.service';

describe('TOTP (RFC 4226 / RFC 6238 test vectors)', () => {
  const rfcSecret = Buffer.from('12345678901234567890');

  test('when HOTP is computed for counters 0–9, then it gives RFC 4226 appendix D values', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expect(expected.map((_, counter) => hotp(rfcSecret, counter))).toEqual(expected);
  });

  test('when TOTP is computed at the RFC 6238 appendix B times (SHA-1, 8 digits), then it gives their values', () => {
    const vectors: Array<[number, string]> = [
      [59, '94287082'],
      [1111111109, '07081804'],
      [1111111111, '14050471'],
      [1234567890, '89005924'],
      [2000000000, '69279037'],
      [20000000000, '65353130'],
    ];
    for (const [seconds, code] of vectors) expect(hotp(rfcSecret, totpStep(new Date(seconds * 1000)), 8)).toBe(code);
  });

  test('when bytes go through base32 and back, then they are unchanged (RFC 4648 examples too)', () => {
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    expect(base32Decode('MZXW6YTBOI======').toString()).toBe('foobar');
    const secret = generateTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Encode(base32Decode(secret))).toBe(secret);
    expect(() => base32Decode('not base32!')).toThrow(/base32/);
  });

  test('when a code of now, the step before or after is given, then it matches; two steps off or reused, it does not', () => {
    const secret = generateTotpSecret();
    const now = new Date('2026-12-01T05:00:10Z');
    const step = totpStep(now);
    const at = (offset: number) => new Date(now.getTime() + offset * 30_000);
    expect(matchTotp(secret, totpCode(secret, now), now, 0)).toBe(step);
    expect(matchTotp(secret, totpCode(secret, at(-1)), now, 0)).toBe(step - 1);
    expect(matchTotp(secret, totpCode(secret, at(1)), now, 0)).toBe(step + 1);
    expect(matchTotp(secret, totpCode(secret, at(-2)), now, 0)).toBeNull();
    expect(matchTotp(secret, totpCode(secret, at(2)), now, 0)).toBeNull();
    // the same code again, once its step was used
    expect(matchTotp(secret, totpCode(secret, now), now, step)).toBeNull();
    expect(matchTotp(secret, '12345', now, 0)).toBeNull();
    expect(matchTotp(secret, 'abcdef', now, 0)).toBeNull();
  });

  test('the otpauth URI names issuer, account and the settings', () => {
    expect(otpauthUri('JBSWY3DPEHPK3PXP', 'ana@example.org', 'Solidarity Clips')).toBe(
      'otpauth://totp/Solidarity%20Clips:ana%40example.org?secret=JBSWY3DPEHPK3PXP&issuer=Solidarity+Clips&algorithm=SHA1&digits=6&period=30',
    );
  });
});

describe('password hashing (scrypt)', () => {
  test('when hashed at the production cost (N = 2^17), then the right password verifies and a wrong one does not', async () => {
    const hash = await hashPassword('correct horse battery staple', 17);
    expect(hash).toMatch(/^scrypt\$17\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', hash)).toBe(false);
  });

  test('when the same password is hashed twice, then the salts differ', async () => {
    expect(await hashPassword('same password here', 10)).not.toBe(await hashPassword('same password here', 10));
  });

  test('when a hash was made at a lower cost than configured, then it needs a rehash; a garbled one never verifies', async () => {
    const cheap = await hashPassword('a long enough password', 10);
    expect(needsRehash(cheap, 17)).toBe(true);
    expect(needsRehash(cheap, 10)).toBe(false);
    expect(await verifyPassword('a long enough password', 'bcrypt$whatever')).toBe(false);
    expect(await verifyPassword('a long enough password', 'scrypt$99$8$1$aa$bb')).toBe(false);
  });
});

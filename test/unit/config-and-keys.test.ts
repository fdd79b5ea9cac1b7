import { ConfigError, loadConfig } from '../../shared/config';
import { originalKey, outputKey, releaseKey, submissionPrefixes } from '../../shared/storage/keys';

describe('loadConfig', () => {
  test('when nothing is set, then the defaults are the local services, and the result is frozen', () => {
    const config = loadConfig({});
    expect(config.mongo.url).toBe('mongodb://127.0.0.1:27017/solidarity');
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.s3.endpoint).toBe('http://127.0.0.1:9000');
    expect(config.upload.maxBytes).toBe(2 * 1024 ** 3);
    expect(Object.isFrozen(config.upload)).toBe(true);
  });

  test('when a value is invalid, then loading fails and names the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', UPLOAD_PART_BYTES: '1024' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
  });
});

describe('loadConfig in production', () => {
  const real = {
    S3_ENDPOINT: 'https://s3.eu-central-1.amazonaws.com',
    S3_ACCESS_KEY_ID: 'AKIAREAL',
    S3_SECRET_ACCESS_KEY: 'a-real-secret',
    PUBLIC_URL: 'https://clips.example.org',
    AUDIT_HMAC_KEY: 'a real audit key of at least 32 characters',
    TOTP_ENCRYPTION_KEY: 'ab'.repeat(32),
  };

  test('when production has real S3 settings, then it loads', () => {
    const config = loadConfig({ NODE_ENV: 'production', ...real });
    expect(config.s3.endpoint).toBe(real.S3_ENDPOINT);
    expect(config.keys).toEqual({ audit: Buffer.from(real.AUDIT_HMAC_KEY), totp: Buffer.from(real.TOTP_ENCRYPTION_KEY, 'hex') });
    expect(Object.isFrozen(config.keys)).toBe(true);
  });

  test.each([
    ['nothing about S3 is set (the local MinIO and its credentials)', { S3_ENDPOINT: undefined, S3_ACCESS_KEY_ID: undefined, S3_SECRET_ACCESS_KEY: undefined }, /S3_ENDPOINT[\s\S]*S3_ACCESS_KEY_ID[\s\S]*S3_SECRET_ACCESS_KEY/],
    ['S3_ENDPOINT is not set', { S3_ENDPOINT: undefined }, /S3_ENDPOINT/],
    ['the access key is the local default', { S3_ACCESS_KEY_ID: 'solidarity' }, /S3_ACCESS_KEY_ID/],
    ['the secret is the local default', { S3_SECRET_ACCESS_KEY: 'solidarity-local-secret' }, /S3_SECRET_ACCESS_KEY/],
    ['PUBLIC_URL is not set', { PUBLIC_URL: undefined }, /PUBLIC_URL/],
    ['the audit log has no key outside the database', { AUDIT_HMAC_KEY: undefined }, /AUDIT_HMAC_KEY/],
    ['TOTP secrets have no encryption key', { TOTP_ENCRYPTION_KEY: undefined }, /TOTP_ENCRYPTION_KEY/],
    ['the credentials are MinIO\'s own defaults', { S3_ACCESS_KEY_ID: 'minioadmin', S3_SECRET_ACCESS_KEY: 'minioadmin' }, /S3_ACCESS_KEY_ID[\s\S]*S3_SECRET_ACCESS_KEY/],
  ])('when %s, then production refuses to start and names it', (_what, overrides, message) => {
    const env = { NODE_ENV: 'production', ...real, ...overrides };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
    // The same settings are fine outside production (they are the defaults of `npm start`).
    expect(() => loadConfig({ ...env, NODE_ENV: 'development' })).not.toThrow();
  });
});

describe('S3 keys', () => {
  const id = '65f0c0ffee0123456789abcd';
  test('keys are made of the opaque id only, and outputs sit in their lease\'s folder', () => {
    expect(originalKey(id)).toBe(`originals/${id}/video`);
    expect(outputKey(id, '0123456789abcdef', 'preview')).toBe(`outputs/${id}/0123456789abcdef/preview.mp4`);
    expect(outputKey(id, '0123456789abcdef', 'master')).toBe(`outputs/${id}/0123456789abcdef/master.mp4`);
    expect(releaseKey(id, 'vertical-be.mp4')).toBe(`releases/${id}/vertical-be.mp4`);
    expect(submissionPrefixes(id)).toEqual([`originals/${id}/`, `outputs/${id}/`, `releases/${id}/`, `captions/${id}/`]);
  });

  test.each(['../x.mp4', 'Vertical.mp4', 'a b.mp4', 'x.exe', 'vertical-.mp4', ''])('when a release file name is %j, then no key is made', (file) => {
    expect(() => releaseKey(id, file)).toThrow(/release file/);
  });

  test('when the retention days are set, then they are read; negative days are refused', () => {
    expect(loadConfig({}).retention).toEqual({ approvedDays: 30, declinedDays: 7, protectedDays: 0 });
    expect(loadConfig({ ORIGINAL_RETENTION_DAYS: '90', ORIGINAL_RETENTION_DAYS_DECLINED: '0', PROTECTED_UNMASKED_RETENTION_DAYS: '2' }).retention).toEqual({ approvedDays: 90, declinedDays: 0, protectedDays: 2 });
    expect(() => loadConfig({ ORIGINAL_RETENTION_DAYS: '-1' })).toThrow(/ORIGINAL_RETENTION_DAYS/);
  });
  test('when something other than an id is given, then no key is made', () => {
    expect(() => originalKey('../../etc/passwd')).toThrow();
    expect(() => originalKey('My Clip.mov')).toThrow();
    expect(() => outputKey(id, '../x', 'preview')).toThrow(/lease/);
  });
});

import { ConfigError, loadConfig } from '../../shared/config';
import { originalKey, outputKey, submissionPrefixes } from '../../shared/storage/keys';

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

describe('S3 keys', () => {
  const id = '65f0c0ffee0123456789abcd';
  test('keys are made of the opaque id only, and outputs sit in their lease\'s folder', () => {
    expect(originalKey(id)).toBe(`originals/${id}/video`);
    expect(outputKey(id, '0123456789abcdef', 'preview')).toBe(`outputs/${id}/0123456789abcdef/preview.mp4`);
    expect(submissionPrefixes(id)).toEqual([`originals/${id}/`, `outputs/${id}/`]);
  });
  test('when something other than an id is given, then no key is made', () => {
    expect(() => originalKey('../../etc/passwd')).toThrow();
    expect(() => originalKey('My Clip.mov')).toThrow();
    expect(() => outputKey(id, '../x', 'preview')).toThrow(/lease/);
  });
});

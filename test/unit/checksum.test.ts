import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { crc32, crc32Header } from '../../shared/storage/checksum';

describe('crc32 (the per-part checksum S3 checks)', () => {
  test('when a known input is checked, then its CRC32 and header are the standard ones (IEEE: "123456789" → CBF43926)', () => {
    expect(crc32).toBeDefined();
    const value = crc32(Buffer.from('123456789'));
    expect(value >>> 0).toBe(0xcbf43926);
    expect(crc32Header(value)).toBe(Buffer.from('cbf43926', 'hex').toString('base64'));
  });

  test('when data comes in chunks of any size, then the running CRC32 equals zlib’s over the whole (empty chunks too)', () => {
    const data = randomBytes(3 * 65536 + 1234);
    for (const size of [1, 7, 4096, 65536, 100_000]) {
      let value = 0;
      for (let at = 0; at < data.length; at += size) value = crc32(data.subarray(at, at + size), value);
      value = crc32(Buffer.alloc(0), value);
      expect(value >>> 0).toBe(zlib.crc32(data) >>> 0);
    }
  });
});

import { clientAddress } from '../../server/middleware/rate-limit';

describe('clientAddress', () => {
  test.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:85a3:0:0:8a2e:370:7334', '2001:db8:85a3:0::/64'],
    ['2001:db8:85a3::8a2e:370:7334', '2001:db8:85a3:0::/64'],
    ['2001:0DB8:85A3:0000:1111:8a2e:370:7334', '2001:db8:85a3:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('when the address is %s, then the client is %s', (address, client) => {
    expect(clientAddress(address)).toBe(client);
  });
});

// The keyed hash and the counters live in Redis: test/integration/client-limits.test.ts.

import { clientAddress, clientKeys, WindowCounter } from '../../server/middleware/rate-limit';

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

describe('clientKeys', () => {
  test('when the same address comes twice, then it has the same key, which contains nothing of the address', () => {
    const keyOf = clientKeys();
    expect(keyOf('203.0.113.7')).toBe(keyOf('::ffff:203.0.113.7'));
    expect(keyOf('203.0.113.7')).not.toBe(keyOf('203.0.113.8'));
    expect(keyOf('203.0.113.7')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(keyOf('203.0.113.7')).not.toContain('203');
  });

  test('when two processes (or one process on the next day) hash an address, then the keys differ: the key is random and rotated', () => {
    expect(clientKeys()('203.0.113.7')).not.toBe(clientKeys()('203.0.113.7'));
    let now = 0;
    const keyOf = clientKeys(() => now);
    const today = keyOf('203.0.113.7');
    now += 23 * 3600 * 1000;
    expect(keyOf('203.0.113.7')).toBe(today);
    now += 3600 * 1000;
    expect(keyOf('203.0.113.7')).not.toBe(today);
  });
});

describe('WindowCounter', () => {
  test('when a key passes the limit, then it is refused until its window ends, with the seconds left; other keys are counted apart', () => {
    const counter = new WindowCounter(2, 60_000);
    expect(counter.hit('a', 0).allowed).toBe(true);
    expect(counter.hit('a', 1000).allowed).toBe(true);
    expect(counter.hit('a', 2000)).toEqual({ allowed: false, retryAfterSeconds: 58 });
    expect(counter.hit('b', 2000).allowed).toBe(true);
    expect(counter.hit('a', 60_000).allowed).toBe(true);
  });

  test('when windows pass, then the entries of past windows are swept (memory stays bounded)', () => {
    const counter = new WindowCounter(5, 1000);
    for (let i = 0; i < 1000; i += 1) counter.hit(`client${i}`, 0);
    expect(counter.size).toBe(1000);
    counter.hit('late', 5000);
    expect(counter.size).toBe(1);
  });

  test('when more clients than it keeps arrive in one window, then the oldest make room and memory stays bounded', () => {
    const counter = new WindowCounter(1, 60_000, 100);
    for (let i = 0; i < 1000; i += 1) counter.hit(`client${i}`, i);
    expect(counter.size).toBe(100);
    expect(counter.hit('client999', 1000).allowed).toBe(false);
  });
});

import { waitUntil } from '../helpers/wait-until';

describe("the tests' one wait", () => {
  test('when the condition comes to hold, then the wait ends with its value, without waiting out the limit', async () => {
    let asked = 0;
    const started = Date.now();
    const value = await waitUntil(() => (++asked >= 3 ? { asked } : null), { timeoutMs: 5_000, what: 'the third ask', intervalMs: 10 });
    expect(value).toEqual({ asked: 3 });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test('when the condition never holds, then it fails after the limit, naming what it waited for and what it saw last', async () => {
    const started = Date.now();
    await expect(waitUntil(async () => false, { timeoutMs: 200, what: 'the clip in review', seen: () => ({ status: 'processing' }) })).rejects.toThrow(
      /timed out after \d+ ms \(limit 200 ms\) waiting for the clip in review; last seen: \{"status":"processing"\}/,
    );
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(200);
    expect(waited).toBeLessThan(1_000);
  });

  test('when the condition throws, then the wait fails at once with that error', async () => {
    const started = Date.now();
    await expect(waitUntil(() => { throw new Error('broken check'); }, { timeoutMs: 5_000, what: 'anything' })).rejects.toThrow('broken check');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

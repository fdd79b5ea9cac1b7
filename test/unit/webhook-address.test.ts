import { addressRefused, checkedLookup, checkWebhookUrl, type Lookup } from '../../shared/distribution/webhook-address';

const strict = { requireHttps: false, allowLoopback: false };
const production = { requireHttps: true, allowLoopback: false };
const local = { requireHttps: false, allowLoopback: true };

describe('webhook addresses', () => {
  test.each([
    'http://127.0.0.1/hook',
    'http://127.1.2.3/',
    'http://localhost:8080/',
    'http://api.localhost/',
    'http://169.254.169.254/latest/meta-data/', // cloud metadata
    'http://10.0.0.1/',
    'http://172.16.5.4/',
    'http://172.31.255.255/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://0.0.0.0/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://[::1]/',
    'http://[::]/',
    'http://[::ffff:127.0.0.1]/', // IPv4-mapped IPv6
    'http://[::ffff:a00:1]/',
    'http://[::ffff:8.8.8.8]/', // mapped, even a public one: an IPv4 address in disguise
    'http://[fe80::1]/',
    'http://[fd12:3456::1]/',
    'http://[64:ff9b::a9fe:a9fe]/', // NAT64 of 169.254.169.254
    'http://2130706433/', // decimal 127.0.0.1
    'http://0x7f000001/', // hex
    'http://0177.0.0.1/', // octal
    'http://0x7f.1/',
    'http://017700000001/',
    'http://2852039166/', // decimal 169.254.169.254
    'http://user:pass@example.org/', // credentials
    'http://user@example.org/',
  ])('when a webhook URL is %s, then it is refused', (url) => {
    expect(() => checkWebhookUrl(url, strict)).toThrow(expect.objectContaining({ code: 'webhook_url_refused', status: 400 }));
  });

  test('when the address is public, then it is accepted; in production only over https', () => {
    expect(checkWebhookUrl('http://hooks.example.org/x', strict).hostname).toBe('hooks.example.org');
    expect(checkWebhookUrl('http://93.184.216.34/x', strict).hostname).toBe('93.184.216.34');
    expect(checkWebhookUrl('http://[2606:2800:220:1::1]/x', strict).hostname).toBe('[2606:2800:220:1::1]');
    expect(() => checkWebhookUrl('http://hooks.example.org/x', production)).toThrow(expect.objectContaining({ code: 'webhook_url_refused' }));
    expect(checkWebhookUrl('https://hooks.example.org/x', production).protocol).toBe('https:');
    expect(() => checkWebhookUrl('ftp://hooks.example.org/x', strict)).toThrow(expect.objectContaining({ code: 'webhook_url_invalid' }));
    expect(() => checkWebhookUrl('not a url', strict)).toThrow(expect.objectContaining({ code: 'webhook_url_invalid' }));
  });

  test('when loopback is allowed (tests, development), then only loopback is: private ranges, mapped addresses and credentials stay refused', () => {
    expect(checkWebhookUrl('http://127.0.0.1:9/x', local).port).toBe('9');
    expect(checkWebhookUrl('http://localhost:9/x', local).hostname).toBe('localhost');
    expect(addressRefused('::1', local)).toBe(false);
    for (const url of ['http://10.0.0.1/', 'http://169.254.169.254/', 'http://[::ffff:127.0.0.1]/', 'http://user:pass@127.0.0.1/']) {
      expect(() => checkWebhookUrl(url, local)).toThrow(expect.objectContaining({ code: 'webhook_url_refused' }));
    }
  });

  test('when a name resolves to any internal address, then the lookup refuses it; otherwise it answers only the address it checked', async () => {
    const answers = (addresses: string[]): Lookup => (_host, _options, callback) => callback(null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
    const run = (resolve: Lookup, all: boolean) =>
      new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((done) => checkedLookup(strict, resolve)('hooks.example.org', { all }, (error, address) => done({ error, address })));
    expect((await run(answers(['93.184.216.34', '10.0.0.1']), true)).error).toMatchObject({ code: 'WEBHOOK_ADDRESS_REFUSED' });
    expect((await run(answers(['::ffff:169.254.169.254']), false)).error).toMatchObject({ code: 'WEBHOOK_ADDRESS_REFUSED' });
    expect((await run(answers([]), false)).error).toMatchObject({ code: 'WEBHOOK_ADDRESS_REFUSED' });
    expect(await run(answers(['93.184.216.34', '93.184.216.35']), false)).toEqual({ error: null, address: '93.184.216.34' });
    expect(await run(answers(['93.184.216.34', '93.184.216.35']), true)).toEqual({ error: null, address: [{ address: '93.184.216.34', family: 4 }] });
  });
});

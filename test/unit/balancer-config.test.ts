import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { haproxyConfig } from '../bench/balancer';

const run = promisify(execFile);

/**
 * bench:scale's balancer (test/bench/balancer.ts): HAProxy (installed by infra/local/install.sh) accepts the
 * configuration, which balances every request on its own over the servers, checks them on /readyz and says which
 * server answered. A configuration HAProxy refuses would only show when the bench runs.
 */
describe('the bench balancer configuration', () => {
  const config = haproxyConfig({ port: 18080, servers: [{ name: 'server1', port: 18081 }, { name: 'server2', port: 18082 }, { name: 'server3', port: 18083 }] });

  test('when HAProxy checks it, then it is valid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'balancer-'));
    try {
      const file = join(dir, 'haproxy.cfg');
      await writeFile(file, config);
      const { stdout, stderr } = await run('haproxy', ['-c', '-f', file]);
      expect(`${stdout}${stderr}`).toMatch(/Configuration file is valid/);
      // And a broken one is refused (the check above can fail).
      await writeFile(file, config.replace('balance roundrobin', 'balance no-such-algorithm'));
      await expect(run('haproxy', ['-c', '-f', file])).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('when it is read, then requests go round robin to every server, each checked on /readyz, bodies streamed', () => {
    expect(config).toMatch(/^\s+balance roundrobin$/m);
    expect(config).toMatch(/^\s+option httpchk GET \/readyz$/m);
    for (const port of [18081, 18082, 18083]) expect(config).toMatch(new RegExp(`^\\s+server server\\d 127\\.0\\.0\\.1:${port} check$`, 'm'));
    expect(config).not.toMatch(/http-buffer-request/);
    expect(config).toMatch(/X-Served-By/);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A local HAProxy (Debian's package, installed by infra/local/install.sh) in front of several server processes, as a
 * cluster's ingress is: every request is balanced on its own (round robin), so one tus upload's PATCHes land on
 * different servers; a server that says 503 on /readyz (it is stopping) or does not answer is taken out within about
 * two seconds and put back once ready twice; a request refused at connect is sent to another server. Bodies are streamed, not
 * buffered, with the timeouts long uploads need. Each answer says which server gave it (`X-Served-By`).
 */

export interface BalancedServer {
  name: string;
  port: number;
}

export function haproxyConfig(options: { port: number; servers: BalancedServer[] }): string {
  return [
    'global',
    '  maxconn 4096',
    '',
    'defaults',
    '  mode http',
    '  option forwardfor',
    '  retries 3',
    '  option redispatch',
    '  timeout connect 2s',
    '  timeout http-request 30s',
    '  timeout client 10m',
    '  timeout server 10m',
    '',
    'frontend web',
    `  bind 127.0.0.1:${options.port}`,
    '  default_backend servers',
    '',
    'backend servers',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    '  http-response set-header X-Served-By %[srv_name]',
    // /readyz asks the database, Redis and the bucket: on a loaded machine that can take a second or more.
    '  timeout check 3s',
    '  default-server inter 1s fall 2 rise 2',
    ...options.servers.map((server) => `  server ${server.name} 127.0.0.1:${server.port} check`),
    '',
  ].join('\n');
}

/** Starts HAProxy in the foreground with that configuration (written in `dir`); resolves once it answers /healthz. */
export async function startBalancer(dir: string, options: { port: number; servers: BalancedServer[] }): Promise<{ url: string; process: ChildProcess; stop(): Promise<void> }> {
  const file = join(dir, 'haproxy.cfg');
  await writeFile(file, haproxyConfig(options));
  const child = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited with code ${String(child.exitCode)}`);
    if ((await fetch(`${url}/healthz`).catch(() => null))?.ok) break;
    if (Date.now() > deadline) throw new Error('haproxy did not pass requests within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

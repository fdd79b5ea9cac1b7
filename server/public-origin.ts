import type { Request } from 'express';
import { isIPv6 } from 'node:net';
import type { Config } from '../shared/config';

/**
 * The address links are made with (invitations, union links, feeds): PUBLIC_URL, which production
 * requires; without it (development), this server's own address — where it listens, and on a wildcard
 * (`0.0.0.0`, `::`) the local address the request came in on. Never the request's `Host` (or a forwarded
 * host): whoever sends the request chooses those, and a link made from them leads where they like.
 */
export function publicOrigin(config: Pick<Readonly<Config>, 'http'>, req: Request): string {
  if (config.http.publicUrl) return config.http.publicUrl.replace(/\/$/, '');
  const wildcard = ['0.0.0.0', '::', ''].includes(config.http.host);
  const host = (wildcard ? req.socket.localAddress ?? '127.0.0.1' : config.http.host).replace(/^::ffff:(?=\d+\.)/, '');
  const port = req.socket.localPort ?? config.http.port;
  return `http://${isIPv6(host) ? `[${host}]` : host}:${port}`;
}

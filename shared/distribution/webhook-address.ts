import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { AppError } from '../errors';

/**
 * Where a webhook may be sent: a public address only. A webhook URL comes from an admin, but a delivery is
 * made from inside the deployment, so an internal address (loopback, cloud metadata on link-local, the
 * private ranges, the cluster's services) would let whoever sets a webhook probe or reach them (SSRF).
 * Checked when a webhook is saved (the URL's form and any literal address) and again at every delivery on
 * the addresses the name resolves to — the connection is made to the address that was checked (the http
 * agent's `lookup`), so a name that answers differently the second time (DNS rebinding) cannot switch it.
 */

export interface WebhookAddressPolicy {
  /** Only https (production). */
  requireHttps: boolean;
  /** 127.0.0.0/8 and ::1 allowed: tests and development, where the receiver runs on this machine. */
  allowLoopback: boolean;
}

export type Lookup = (hostname: string, options: { all: true }, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * Never a destination: addresses of this host, its networks and the special-purpose ranges (RFC 6890 and
 * friends). One list per family: a BlockList checks IPv4 addresses against IPv6 rules as if mapped.
 */
const REFUSED_V4 = new BlockList();
const REFUSED_V6 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local: cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  REFUSED_V4.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['::ffff:0:0', 96], // IPv4-mapped: an IPv4 address in disguise
  ['::', 96], // IPv4-compatible (deprecated)
  ['64:ff9b::', 96], // NAT64: reaches IPv4 addresses through a gateway
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments, Teredo
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds any IPv4 address
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  REFUSED_V6.addSubnet(network, prefix, 'ipv6');
}

const LOOPBACK_V4 = new BlockList();
LOOPBACK_V4.addSubnet('127.0.0.0', 8, 'ipv4');
const LOOPBACK_V6 = new BlockList();
LOOPBACK_V6.addAddress('::1', 'ipv6');

/** Whether a connection to this literal address (IPv4 or IPv6, no brackets) is refused. */
export function addressRefused(address: string, policy: Pick<WebhookAddressPolicy, 'allowLoopback'>): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return !(policy.allowLoopback && LOOPBACK_V4.check(address, 'ipv4')) && REFUSED_V4.check(address, 'ipv4');
  return !(policy.allowLoopback && LOOPBACK_V6.check(address, 'ipv6')) && REFUSED_V6.check(address, 'ipv6');
}

function refused(message: string): AppError {
  return new AppError('webhook_url_refused', 400, message);
}

/** A name meant for this machine, whatever DNS says. */
function localName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === 'localhost.localdomain';
}

/**
 * The URL's form: http(s) (https only in production), no credentials, no internal literal address. The
 * WHATWG parser has already turned decimal, octal and hex IPv4 forms (`2130706433`, `0x7f.1`, `0177.0.0.1`)
 * into dotted quads, so they are checked as the addresses they are. Returns the parsed URL.
 */
export function checkWebhookUrl(raw: string, policy: WebhookAddressPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('webhook_url_invalid', 400, 'The webhook address must be an http(s) URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AppError('webhook_url_invalid', 400, 'The webhook address must be an http(s) URL.');
  if (policy.requireHttps && url.protocol !== 'https:') throw refused('The webhook address must be an https URL.');
  if (url.username || url.password) throw refused('The webhook address must not carry a user name or password.');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) !== 0) {
    if (addressRefused(host, policy)) throw refused('The webhook address must be a public address.');
  } else if (localName(host.replace(/\.$/, '')) && !policy.allowLoopback) {
    throw refused('The webhook address must be a public address.');
  }
  return url;
}

/**
 * A `lookup` for the http agent: resolves every address of the name and refuses the connection if any of
 * them is refused (one internal answer among public ones is a hint of rebinding); otherwise connects to the
 * first one, the address that was checked.
 */
export function checkedLookup(policy: Pick<WebhookAddressPolicy, 'allowLoopback'>, resolve: Lookup = dnsLookup as unknown as Lookup) {
  return (hostname: string, options: { all?: boolean }, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
    resolve(hostname, { all: true }, (error, addresses) => {
      if (error) return callback(error, '', 4);
      if (addresses.length === 0 || addresses.some((a) => addressRefused(a.address, policy))) {
        return callback(Object.assign(new Error('webhook address refused'), { code: 'WEBHOOK_ADDRESS_REFUSED' }), '', 4);
      }
      const first = addresses[0]!;
      if (options.all) callback(null, [first]);
      else callback(null, first.address, first.family);
    });
  };
}

/** The name's addresses, checked (when a webhook is saved): refused if any is internal or it does not resolve. */
export async function checkWebhookHost(url: URL, policy: Pick<WebhookAddressPolicy, 'allowLoopback'>, resolve: Lookup = dnsLookup as unknown as Lookup): Promise<void> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) !== 0) return;
  const lookup = checkedLookup(policy, resolve);
  const error = await new Promise<NodeJS.ErrnoException | null>((done) => lookup(host, { all: true }, (e) => done(e)));
  if (error?.code === 'WEBHOOK_ADDRESS_REFUSED') throw refused('The webhook address must be a public address.');
  if (error) throw refused('The webhook address could not be found.');
}

/** A webhook's address as shown to admins: never a user name or password (saved before they were refused). */
export function shownWebhookUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return '';
  }
}

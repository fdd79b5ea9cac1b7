import { createHash, randomBytes } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';

/** tus requests written by hand (tus-js-client hides what a test must see: statuses, headers, timing). */

export const tusHeaders = { 'Tus-Resumable': '1.0.0' };

export function encodeMetadata(meta: Record<string, string>): string {
  return Object.entries(meta)
    .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
    .join(',');
}

/** Status tokens by the SHA-256 the metadata carries, and by upload id once created (see `ownerHeaders`). */
const tokensByHash = new Map<string, string>();
const tokensById = new Map<string, string>();

/**
 * The header every request about an upload after its creation needs (the server checks the token against the
 * hash its creation carried), for an upload made with `createUpload` from `uploadMetadata`.
 */
export function ownerHeaders(id: string): Record<string, string> {
  const token = tokensById.get(id);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** The same header, from the metadata an upload is (or will be) created with (for tus-js-client's `headers`). */
export function ownerHeadersOf(meta: Record<string, string>): Record<string, string> {
  const token = meta.statusTokenHash ? tokensByHash.get(meta.statusTokenHash) : undefined;
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** The metadata of a valid upload for the demo campaign, and the status token whose SHA-256 it carries. */
export function uploadMetadata(overrides: Record<string, string> = {}) {
  const token = randomBytes(32).toString('base64url');
  tokensByHash.set(createHash('sha256').update(token).digest('hex'), token);
  return {
    token,
    metadata: {
      campaign: 'demo',
      organisation: 'BNP',
      country: 'BY',
      language: 'be',
      title: 'Салідарнасць',
      consent: JSON.stringify({ version: 1, language: 'be', statements: ['record', 'publish', 'risk'] }),
      statusTokenHash: createHash('sha256').update(token).digest('hex'),
      ...overrides,
    },
  };
}

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Bytes of the body handed to the socket before the answer came. */
  sent: number;
  /** When the answer came (ms since the request started). */
  ms: number;
}

/**
 * A request whose body is sent as the test says: `first` at once, then (optionally) one byte every
 * `trickleEveryMs` from `trickle`, holding the rest back; `declared` is its Content-Length. The answer is read
 * as soon as it comes (before the body is done); `stop()` ends the request.
 */
export function rawRequest(
  url: string,
  options: { method: string; headers: Record<string, string>; declared: number; first: Buffer; trickle?: Buffer; trickleEveryMs?: number },
) {
  const started = Date.now();
  const target = new URL(url);
  const req = request({
    host: target.hostname,
    port: target.port,
    path: target.pathname,
    method: options.method,
    headers: { ...options.headers, 'Content-Length': String(options.declared) },
  });
  req.on('error', () => undefined);
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    req.once('close', () => reject(new Error('the connection closed without an answer')));
    req.on('response', (res) => {
      clearInterval(timer);
      const at = { sent, ms: Date.now() - started };
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      const done = () => resolve({ status: res.statusCode!, headers: res.headers, body, ...at });
      res.on('end', done);
      res.on('error', done);
    });
  });
  answer.catch(() => undefined);
  const written = new Promise<void>((resolve) =>
    req.write(options.first, () => {
      sent += options.first.length;
      resolve();
    }),
  );
  if (options.trickle) {
    const trickle = options.trickle;
    let at = 0;
    void written.then(() => {
      timer = setInterval(() => {
        if (at >= trickle.length || req.destroyed) return clearInterval(timer);
        req.write(trickle.subarray(at, at + 1));
        at += 1;
        sent += 1;
      }, options.trickleEveryMs ?? 200);
    });
  }
  return {
    answer,
    written,
    /** More of the body, now. */
    write: (more: Buffer) =>
      new Promise<void>((resolve) =>
        req.write(more, () => {
          sent += more.length;
          resolve();
        }),
      ),
    stop: () => {
      clearInterval(timer);
      req.destroy();
    },
  };
}

/** A PATCH of `first` at `offset`, declared as `declared` bytes (the rest held back, or trickled). */
export function rawPatch(base: string, id: string, offset: number, first: Buffer, options: { declared?: number; trickle?: Buffer; trickleEveryMs?: number } = {}) {
  return rawRequest(`${base}/tus/${id}`, {
    method: 'PATCH',
    headers: { ...tusHeaders, ...ownerHeaders(id), 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
    ...options,
    declared: options.declared ?? first.length,
    first,
  });
}

export async function createUpload(base: string, size: number, meta: Record<string, string>, extra: Record<string, string> = {}) {
  const response = await fetch(`${base}/tus`, { method: 'POST', headers: { ...tusHeaders, 'Upload-Length': String(size), 'Upload-Metadata': encodeMetadata(meta), ...extra } });
  const location = response.headers.get('location');
  const id = location ? /\/tus\/([a-f0-9]{24})$/.exec(location)?.[1] : undefined;
  const token = meta.statusTokenHash ? tokensByHash.get(meta.statusTokenHash) : undefined;
  if (id && token) tokensById.set(id, token);
  return { status: response.status, headers: response.headers, body: await response.text(), id };
}

export async function headUpload(base: string, id: string) {
  const response = await fetch(`${base}/tus/${id}`, { method: 'HEAD', headers: { ...tusHeaders, ...ownerHeaders(id) } });
  return { status: response.status, offset: Number(response.headers.get('upload-offset')), retryAfter: response.headers.get('retry-after') };
}

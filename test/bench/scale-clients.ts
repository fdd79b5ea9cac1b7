import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { multipartBody } from '../helpers/multipart';
import { encodeMetadata } from '../helpers/tus-requests';

/**
 * The clients bench:scale plays: unions uploading (multipart or tus, each from an address of its own, retrying as the
 * campaign page does) and contributors' pages reading their clip's status. Each request is a connection of its own
 * from its client's loopback address (127.x.y.z), so the servers behind the balancer tell the clients apart
 * (TRUST_PROXY=1) and each has its own rate limits, as on the internet.
 */

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function send(url: string, options: { method: string; headers?: Record<string, string | number>; body?: Buffer; from: string; timeoutMs?: number }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method, headers: options.headers, localAddress: options.from, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 120_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface Uploaded {
  id: string;
  token: string;
  sha256: string;
  kind: 'multipart' | 'tus';
  /** Requests refused or cut (503 while a server stopped, a connection reset) and sent again. */
  retries: number;
  /** The servers that answered this upload's requests (X-Served-By). */
  servers: Set<string>;
}

const ATTEMPTS = 30;

function fields(n: number, language: string): Record<string, string> {
  return {
    campaign: 'demo',
    organisation: `Scale union ${n}`,
    country: 'BY',
    language,
    title: `Scale clip ${n}`,
    consent: JSON.stringify({ version: 1, language, statements: ['record', 'publish', 'risk'] }),
  };
}

/** Waits what a 503 or 429 asks (Retry-After, capped at 5 s), or a moment after a connection error. */
async function backOff(answer: Answer | null): Promise<void> {
  const seconds = Number(answer?.headers['retry-after'] ?? 0.5);
  await new Promise((resolve) => setTimeout(resolve, Math.min(5, Math.max(0.2, seconds)) * 1000));
}

const retryable = (status: number) => status === 503 || status === 502 || status === 429;

/** A multipart upload (POST /api/submissions), sent again whole after a 503 or a cut connection, as the page does. */
export async function multipartUpload(base: string, clip: Buffer, n: number, from: string): Promise<Uploaded> {
  const { body, contentType } = multipartBody(fields(n, 'en'), [{ field: 'video', filename: `clip-${n}.mp4`, contentType: 'video/mp4', content: clip }]);
  const servers = new Set<string>();
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const answer = await send(`${base}/api/submissions`, {
      method: 'POST',
      from,
      headers: { 'Content-Type': contentType, 'Content-Length': body.length },
      body,
    }).catch(() => null);
    if (answer?.headers['x-served-by']) servers.add(String(answer.headers['x-served-by']));
    if (answer?.status === 202) {
      const parsed = JSON.parse(answer.body) as { id: string; statusToken: string };
      return { id: parsed.id, token: parsed.statusToken, sha256: sha256(clip), kind: 'multipart', retries: attempt, servers };
    }
    if (answer && !retryable(answer.status)) throw new Error(`multipart upload ${n}: ${answer.status} ${answer.body.slice(0, 300)}`);
    await backOff(answer);
  }
  throw new Error(`multipart upload ${n}: gave up after ${ATTEMPTS} attempts`);
}

/**
 * A tus upload in PATCHes of `chunkBytes` (as tus-js-client sends with a chunk size): each PATCH is balanced on its own,
 * so they land on different servers. A PATCH refused or cut is followed by a HEAD for the offset, and the upload
 * carries on from there, wherever the balancer sends it.
 */
export async function tusUpload(base: string, clip: Buffer, n: number, from: string, chunkBytes: number): Promise<Uploaded> {
  const token = randomBytes(32).toString('base64url');
  const meta = { ...fields(n, 'be'), statusTokenHash: createHash('sha256').update(token).digest('hex') };
  const tus = { 'Tus-Resumable': '1.0.0' };
  const owner = { Authorization: `Bearer ${token}` };
  const servers = new Set<string>();
  let retries = 0;
  const note = (answer: Answer | null) => {
    if (answer?.headers['x-served-by']) servers.add(String(answer.headers['x-served-by']));
    return answer;
  };
  let id: string | undefined;
  for (let attempt = 0; !id; attempt += 1) {
    if (attempt >= ATTEMPTS) throw new Error(`tus upload ${n}: could not create it in ${ATTEMPTS} attempts`);
    const answer = note(await send(`${base}/tus`, { method: 'POST', from, headers: { ...tus, 'Upload-Length': clip.length, 'Upload-Metadata': encodeMetadata(meta) } }).catch(() => null));
    if (answer?.status === 201) id = /\/tus\/([a-f0-9]{24})$/.exec(String(answer.headers.location))?.[1];
    else if (answer && !retryable(answer.status)) throw new Error(`tus upload ${n}: creation ${answer.status} ${answer.body.slice(0, 300)}`);
    else {
      retries += 1;
      await backOff(answer);
    }
  }
  // Until the PATCH that ends it answers 200 (the clip is a submission). An upload whose last PATCH was cut may be
  // whole already: an empty PATCH at its end makes the server finish it (idempotent) and answer 200.
  let offset = 0;
  for (;;) {
    if (retries > ATTEMPTS) throw new Error(`tus upload ${n}: gave up after ${ATTEMPTS} retries`);
    const chunk = clip.subarray(offset, Math.min(clip.length, offset + chunkBytes));
    const answer = note(
      await send(`${base}/tus/${id}`, {
        method: 'PATCH',
        from,
        headers: { ...tus, ...owner, 'Upload-Offset': offset, 'Content-Type': 'application/offset+octet-stream', 'Content-Length': chunk.length },
        body: chunk,
      }).catch(() => null),
    );
    if (answer?.status === 200) break;
    if (answer?.status === 204) {
      offset = Number(answer.headers['upload-offset']);
      continue;
    }
    if (answer && !retryable(answer.status) && answer.status !== 409 && answer.status !== 423) throw new Error(`tus upload ${n}: PATCH ${answer.status} ${answer.body.slice(0, 300)}`);
    // Refused, cut or out of step: ask where it stands, then carry on from there.
    retries += 1;
    await backOff(answer);
    const head = note(await send(`${base}/tus/${id}`, { method: 'HEAD', from, headers: { ...tus, ...owner } }).catch(() => null));
    if (head?.status === 200) offset = Number(head.headers['upload-offset']);
  }
  return { id: id!, token, sha256: sha256(clip), kind: 'tus', retries, servers };
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** One read of a clip's status, as its contributor's page makes: the time it took, or null when it failed. */
export async function readStatus(base: string, clip: Pick<Uploaded, 'id' | 'token'>, from: string): Promise<{ ms: number; ok: boolean; status: number }> {
  const started = process.hrtime.bigint();
  const answer = await send(`${base}/api/submissions/${clip.id}/status`, { method: 'GET', from, headers: { Authorization: `Bearer ${clip.token}` }, timeoutMs: 30_000 }).catch(() => null);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, ok: answer?.status === 200, status: answer?.status ?? 0 };
}

/**
 * Reads statuses at `perSecond` (open loop: a read starts every 1/perSecond s whether or not the earlier ones have
 * answered, so a slow server shows as latency, not as fewer reads), each from one of `clients` addresses in turn,
 * until stopped. `clips()` gives the clips to read (the uploads acknowledged so far).
 */
export function statusReaders(base: string, clips: () => Array<Pick<Uploaded, 'id' | 'token'>>, options: { perSecond: number; clients: string[] }) {
  const samples: number[] = [];
  const failures: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let n = 0;
  const started = Date.now();
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - started) / 1000) * options.perSecond);
    const known = clips();
    while (n < due && known.length > 0) {
      const clip = known[n % known.length]!;
      const from = options.clients[n % options.clients.length]!;
      n += 1;
      const read = readStatus(base, clip, from).then((r) => {
        if (r.ok) samples.push(r.ms);
        else failures.push(r.status);
      });
      inFlight.add(read);
      void read.finally(() => inFlight.delete(read));
    }
  }, 5);
  return {
    async stop(): Promise<{ samples: number[]; failures: number[]; seconds: number }> {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return { samples, failures, seconds: (Date.now() - started) / 1000 };
    },
  };
}

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Loopback addresses for `count` clients: 127.<block>.<i / 250>.<1 + i % 250>. */
export function clientAddresses(block: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.${block}.${Math.floor(i / 250)}.${1 + (i % 250)}`);
}

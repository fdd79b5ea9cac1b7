import { randomBytes } from 'node:crypto';
import http from 'node:http';

/** A file part: `head` (real bytes), then `fillerBytes` more of `filler`, made as they are sent. */
export interface LazyPart {
  field: string;
  filename: string;
  head: Buffer;
  fillerBytes?: number;
  filler?: number;
}

export interface SlowUploadOptions {
  fields: Record<string, string>;
  parts: LazyPart[];
  /** Bytes per write, and the pause between writes (the client honours back-pressure as well). */
  chunkBytes?: number;
  intervalMs?: number;
  /** Stop writing after this many bytes (and wait for an answer): keeps a test that fails from sending 300 MB. */
  stopAfterBytes?: number;
  /** How long to wait for an answer once writing stopped. */
  answerTimeoutMs?: number;
  /** Hold the body here until `until` settles, having sent `bytes` (then go on). */
  hold?: { bytes: number; until: Promise<unknown> };
  /** Then send the rest one byte at a time, every `everyMs` (a trickle). */
  trickleAfterBytes?: number;
  trickleEveryMs?: number;
  localAddress?: string;
}

export interface SlowUploadResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: Record<string, unknown>;
  /** Bytes handed to the socket before the answer arrived. */
  sentBytes: number;
  totalBytes: number;
  /** Whether the server closed the connection after answering (within a few seconds). */
  closed: boolean;
  ms: number;
}

/** A multipart body made lazily: its length is known up front, its bytes are made as they are read. */
function lazyMultipart(fields: Record<string, string>, parts: LazyPart[]) {
  const boundary = `----solidarity${randomBytes(8).toString('hex')}`;
  const segments: Array<Buffer | { bytes: number; filler: number }> = [];
  for (const [name, value] of Object.entries(fields)) {
    segments.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  for (const part of parts) {
    segments.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${part.field}"; filename="${part.filename}"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      ),
      part.head,
    );
    if (part.fillerBytes) segments.push({ bytes: part.fillerBytes, filler: part.filler ?? 0 });
    segments.push(Buffer.from('\r\n'));
  }
  segments.push(Buffer.from(`--${boundary}--\r\n`));
  const total = segments.reduce((sum, s) => sum + (Buffer.isBuffer(s) ? s.length : s.bytes), 0);
  let index = 0;
  let offset = 0;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    total,
    /** The next bytes, at most `max`; an empty buffer at the end. */
    take(max: number): Buffer {
      const out: Buffer[] = [];
      let left = max;
      while (left > 0 && index < segments.length) {
        const segment = segments[index]!;
        const length = Buffer.isBuffer(segment) ? segment.length : segment.bytes;
        const n = Math.min(left, length - offset);
        out.push(Buffer.isBuffer(segment) ? segment.subarray(offset, offset + n) : Buffer.alloc(n, segment.filler));
        offset += n;
        left -= n;
        if (offset === length) {
          index += 1;
          offset = 0;
        }
      }
      return Buffer.concat(out);
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends a multipart upload slowly and lazily (never whole in memory) and counts the bytes it wrote before
 * the answer arrived. Stops writing when the answer arrives.
 */
export function slowUpload(url: string, options: SlowUploadOptions): Promise<SlowUploadResult> {
  const body = lazyMultipart(options.fields, options.parts);
  const chunkBytes = options.chunkBytes ?? 64 * 1024;
  const intervalMs = options.intervalMs ?? 10;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let sentBytes = 0;
    let answered = false;
    let failed: Error | undefined;
    const req = http.request(url, {
      method: 'POST',
      agent: false,
      localAddress: options.localAddress,
      headers: { 'Content-Type': body.contentType, 'Content-Length': body.total },
    });
    req.on('error', (error) => {
      failed = error;
      // A server that closes after answering may reset the upload: only an error before any answer counts.
      if (!answered) reject(error);
    });
    req.on('response', (res) => {
      answered = true;
      const sentBeforeAnswer = sentBytes;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const socket = req.socket;
        const closed = new Promise<boolean>((done) => {
          if (!socket || socket.destroyed) {
            done(true);
            return;
          }
          const timer = setTimeout(() => done(false), 5000);
          socket.once('close', () => {
            clearTimeout(timer);
            done(true);
          });
        });
        void closed.then((wasClosed) => {
          req.destroy();
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown>;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = { raw: text };
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json, sentBytes: sentBeforeAnswer, totalBytes: body.total, closed: wasClosed, ms: Date.now() - started });
        });
      });
    });

    void (async () => {
      let held = false;
      while (!answered && !failed) {
        if (options.hold && !held && sentBytes >= options.hold.bytes) {
          held = true;
          await options.hold.until;
          continue;
        }
        if (options.stopAfterBytes !== undefined && sentBytes >= options.stopAfterBytes) break;
        const trickling = options.trickleAfterBytes !== undefined && sentBytes >= options.trickleAfterBytes;
        let size = trickling ? 1 : chunkBytes;
        if (options.hold && !held) size = Math.min(size, options.hold.bytes - sentBytes);
        if (options.trickleAfterBytes !== undefined && !trickling) size = Math.min(size, options.trickleAfterBytes - sentBytes);
        const chunk = body.take(size);
        if (chunk.length === 0) {
          req.end();
          return;
        }
        sentBytes += chunk.length;
        if (!req.write(chunk)) {
          await new Promise<void>((done) => {
            const settle = () => {
              req.off('drain', settle).off('close', settle);
              done();
            };
            req.on('drain', settle).on('close', settle);
          });
        }
        await sleep(trickling ? (options.trickleEveryMs ?? 200) : intervalMs);
      }
      if (answered || failed) return;
      const deadline = Date.now() + (options.answerTimeoutMs ?? 20_000);
      while (!answered && !failed && Date.now() < deadline) await sleep(50);
      if (!answered && !failed) {
        req.destroy();
        resolve({ status: 0, headers: {}, json: { code: 'no answer' }, sentBytes, totalBytes: body.total, closed: false, ms: Date.now() - started });
      }
    })();
  });
}

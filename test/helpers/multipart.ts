import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Readable } from 'node:stream';

export interface FilePart {
  field: string;
  filename: string;
  contentType?: string;
  content: Buffer;
}

/** Builds a multipart/form-data body by hand, so tests control every byte (and can break it on purpose). */
export function multipartBody(fields: Record<string, string>, files: FilePart[] = []): { body: Buffer; contentType: string } {
  const boundary = `----solidarity${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  for (const file of files) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\n` +
          `Content-Type: ${file.contentType ?? 'application/octet-stream'}\r\n\r\n`,
      ),
      file.content,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: Record<string, unknown>;
}

/** POSTs a body (a Buffer or a stream) with plain node:http and parses the JSON reply. */
export function post(url: string, body: Buffer | Readable, headers: Record<string, string | number>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json: Record<string, unknown>;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = { raw: text };
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

export function postMultipart(url: string, fields: Record<string, string>, files: FilePart[] = []): Promise<RawResponse> {
  const { body, contentType } = multipartBody(fields, files);
  return post(url, body, { 'Content-Type': contentType, 'Content-Length': body.length });
}

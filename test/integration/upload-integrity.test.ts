import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { HeadObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { multipartUpload } from '../../shared/storage/multipart-upload';
import { createObjectStorage, type ObjectStorage } from '../../shared/storage/object-storage';
import { smallMp4 } from '../helpers/fixtures';
import { postMultipart } from '../helpers/multipart';
import { expectNothingStored } from '../helpers/storage-state';
import { demoConsent, seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const fields = {
  campaign: 'demo',
  organisation: 'Independent Trade Union of Miners',
  country: 'BY',
  language: 'en',
  title: 'Free them',
  consent: demoConsent('en'),
};

/** A body sent in chunks of uneven sizes, so part boundaries fall in the middle of chunks. */
function unevenStream(data: Buffer): Readable {
  const sizes = [1, 65_536, 777, 3 * MiB + 5, 100_003];
  let offset = 0;
  let turn = 0;
  return new Readable({
    read() {
      if (offset >= data.length) {
        this.push(null);
        return;
      }
      const size = sizes[turn++ % sizes.length]!;
      this.push(data.subarray(offset, offset + size));
      offset += size;
    },
  });
}

/**
 * A loopback TCP proxy in front of S3 that counts connections and, when `corrupt`, flips one byte, 1 MiB
 * into each connection: well inside the body of the first part that connection carries (request heads are
 * a few hundred bytes, parts ≥ 5 MiB).
 */
async function s3Proxy(
  target: URL,
  { corrupt }: { corrupt: boolean },
): Promise<{ endpoint: string; flipped: () => number; connections: () => number; close(): Promise<void> }> {
  let flipped = 0;
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    connections += 1;
    sockets.add(client).add(upstream);
    let seen = 0;
    client.on('data', (chunk: Buffer) => {
      if (corrupt && seen <= MiB && seen + chunk.length > MiB) {
        const copy = Buffer.from(chunk);
        copy[MiB - seen] = copy[MiB - seen]! ^ 0xff;
        flipped += 1;
        chunk = copy;
      }
      seen += chunk.length;
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on('end', () => upstream.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    flipped: () => flipped,
    connections: () => connections,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('integrity of uploads on their way to S3', () => {
  let app: TestApp;
  let storage: ObjectStorage;
  let video: Buffer;

  beforeAll(async () => {
    app = await startTestApp({ UPLOAD_MAX_BYTES: String(16 * MiB), UPLOAD_PART_BYTES: String(PART) });
    storage = app.services.storage;
    await seedDemoCampaign(app.deps);
    video = await smallMp4();
  });

  afterAll(async () => {
    await app.close();
  });

  afterEach(async () => {
    await app.services.db.submissions.deleteMany({});
    for (const key of await storage.list('')) await storage.remove(key);
  });

  test('when a clip spanning several parts is sent, then the stored object has the recorded SHA-256 and S3 holds a CRC32 of each part', async () => {
    const clip = Buffer.concat([video, randomBytes(2 * PART + 12_345)]);
    const response = await postMultipart(`${app.baseUrl}/api/submissions`, fields, [{ field: 'video', filename: 'clip.mp4', content: clip }]);
    expect(response.status).toBe(202);
    const id = response.json.id as string;
    const doc = await app.services.db.submissions.findById(id).lean();
    expect(doc?.original).toMatchObject({ bytes: clip.length, sha256: sha256(clip) });

    const key = `originals/${id}/video`;
    expect(sha256(await buffer(await storage.download(key)))).toBe(doc?.original?.sha256);
    const head = await storage.client.send(new HeadObjectCommand({ Bucket: storage.bucket, Key: key, ChecksumMode: 'ENABLED' }));
    // A multipart object's CRC32 is the checksum of its parts' CRC32s, "-<number of parts>".
    expect(head.ChecksumCRC32).toMatch(/^[A-Za-z0-9+/]{6}==-3$/);
  });

  test.each([
    ['empty', 0],
    ['smaller than a part', 1000],
    ['exactly one part', PART],
    ['one byte more than a part', PART + 1],
    ['exactly two parts', 2 * PART],
    ['two parts and a bit', 2 * PART + 4097],
  ])('when a body is %s and arrives in uneven chunks, then the stored object is byte for byte the body', async (_name, size) => {
    const body = randomBytes(size);
    await storage.upload(`bodies/${size}`, unevenStream(body), 'application/octet-stream');
    expect(sha256(await buffer(await storage.download(`bodies/${size}`)))).toBe(sha256(body));
  });

  test('when the body fails halfway, then the upload fails with its error and no multipart upload is left', async () => {
    let sent = 0;
    const failing = new Readable({
      read() {
        sent += MiB;
        if (sent > 2 * PART) this.destroy(new Error('the contributor went away'));
        else this.push(randomBytes(MiB));
      },
    });
    await expect(storage.upload('failing', failing, 'application/octet-stream')).rejects.toThrow('the contributor went away');
    const pending = await storage.client.send(new ListMultipartUploadsCommand({ Bucket: storage.bucket }));
    expect({ objects: await storage.list(''), pending: pending.Uploads ?? [] }).toEqual({ objects: [], pending: [] });
  });

  test('when the body fails while a chunk waits for its part to be sent, then no part is sent after that, and nothing is left', async () => {
    // The real S3 client, with the first part held back until the body has failed.
    const sent: string[] = [];
    let releasePart!: () => void;
    const partHeld = new Promise<void>((resolve) => (releasePart = resolve));
    let partReached!: () => void;
    const firstPartSent = new Promise<void>((resolve) => (partReached = resolve));
    const client = {
      async send(command: { constructor: { name: string } }, options?: unknown) {
        const name = command.constructor.name;
        sent.push(name);
        if (name === 'UploadPartCommand' && sent.filter((n) => n === name).length === 1) {
          partReached();
          await partHeld;
        }
        return (storage.client.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
      },
    } as unknown as S3Client;
    const body = new PassThrough();
    const upload = multipartUpload({ client, bucket: storage.bucket, key: 'waiting', body, contentType: 'application/octet-stream', partBytes: PART, partsInFlight: 1 });
    const failed = upload.then(() => 'stored', (error: Error) => error.message);
    // The first part fills; the next chunk (more than a part) waits while the first is sent.
    body.write(randomBytes(PART));
    body.write(randomBytes(PART + MiB));
    await firstPartSent;
    const closed = new Promise((resolve) => body.once('close', resolve));
    body.destroy(new Error('the contributor went away'));
    await closed;
    releasePart();
    expect(await failed).toBe('the contributor went away');
    expect(sent).toEqual(['CreateMultipartUploadCommand', 'UploadPartCommand', 'AbortMultipartUploadCommand']);
    const pending = await storage.client.send(new ListMultipartUploadsCommand({ Bucket: storage.bucket }));
    expect({ objects: await storage.list(''), pending: pending.Uploads ?? [] }).toEqual({ objects: [], pending: [] });
  });

  test('when a body of several parts is uploaded, then its parts share kept-alive connections (not a new connection, or TLS handshake, per part)', async () => {
    const proxy = await s3Proxy(new URL(app.config.s3.endpoint!), { corrupt: false });
    try {
      const through = createObjectStorage({ ...app.config.s3, endpoint: proxy.endpoint }, app.config.upload);
      const body = randomBytes(6 * PART);
      await through.upload('kept-alive', Readable.from([body]), 'application/octet-stream');
      expect(sha256(await buffer(await storage.download('kept-alive')))).toBe(sha256(body));
      // One connection per part sent at once; 8 requests (create, 6 parts, complete) without keep-alive.
      expect(proxy.connections()).toBeLessThanOrEqual(app.config.upload.partsInFlight);
    } finally {
      await proxy.close();
    }
  });

  describe('when a part is corrupted on its way to S3', () => {
    let proxy: Awaited<ReturnType<typeof s3Proxy>>;
    let corrupted: TestApp;

    beforeAll(async () => {
      proxy = await s3Proxy(new URL(app.config.s3.endpoint!), { corrupt: true });
      corrupted = await startTestApp({ UPLOAD_MAX_BYTES: String(16 * MiB), UPLOAD_PART_BYTES: String(PART) }, undefined, (config) => ({
        storage: createObjectStorage({ ...config.s3, endpoint: proxy.endpoint }, config.upload),
      }));
      await seedDemoCampaign(corrupted.deps);
    });

    afterAll(async () => {
      await corrupted.close();
      await proxy.close();
    });

    test('then S3 refuses the part (its CRC32 does not match), and no object or multipart upload is left', async () => {
      const through = createObjectStorage({ ...corrupted.config.s3, endpoint: proxy.endpoint }, corrupted.config.upload);
      const error = await through.upload('corrupted', Readable.from([randomBytes(2 * PART + 1)]), 'application/octet-stream').then(
        () => undefined,
        (refusal: unknown) => refusal as { name?: string; message?: string },
      );
      expect(proxy.flipped()).toBeGreaterThan(0);
      expect(`${error?.name}: ${error?.message}`).toMatch(/BadDigest|Checksum/i);
      await expectNothingStored(corrupted);
    });

    test('then the API answers 503 storage_unavailable and nothing is stored', async () => {
      const clip = Buffer.concat([video, randomBytes(2 * PART)]);
      const response = await postMultipart(`${corrupted.baseUrl}/api/submissions`, fields, [{ field: 'video', filename: 'clip.mp4', content: clip }]);
      expect({ status: response.status, code: response.json.code }).toEqual({ status: 503, code: 'storage_unavailable' });
      await expectNothingStored(corrupted);
    });
  });
});

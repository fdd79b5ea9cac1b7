import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * busboy finds multipart boundaries with streamsearch; package.json's overrides give it the copy in
 * infra/vendor/streamsearch (its in-chunk search is Buffer#indexOf). That copy must answer exactly as
 * upstream does: the same callbacks (match or not, the same bytes, the same "safe to keep" flag), in the
 * same order, whatever the needle, the data and how the data is cut into chunks.
 */

type Callback = (isMatch: boolean, data: Buffer | undefined, start: number, end: number, isSafeData: boolean) => void;
interface StreamSearch {
  push(chunk: Buffer, pos?: number): number;
  destroy(): void;
  reset(): void;
  matches: number;
}
type StreamSearchClass = new (needle: Buffer | string, cb: Callback) => StreamSearch;

const vendor = join(__dirname, '..', '..', 'infra', 'vendor', 'streamsearch');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Vendored = require(join(vendor, 'lib', 'sbmh.js')) as StreamSearchClass;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Upstream = require(join(vendor, 'upstream', 'sbmh.js')) as StreamSearchClass;

type Event = [isMatch: boolean, bytes: string | null, isSafeData: boolean];

/** Every callback, with the bytes copied at the time of the call (the lookbehind buffer is reused). */
function run(Search: StreamSearchClass, needle: Buffer, chunks: Buffer[]): { events: Event[]; matches: number } {
  const events: Event[] = [];
  const search = new Search(needle, (isMatch, data, start, end, isSafeData) => {
    events.push([isMatch, data ? data.toString('latin1', start, end) : null, isSafeData]);
  });
  for (const chunk of chunks) search.push(chunk);
  const matches = search.matches;
  search.destroy();
  return { events, matches };
}

/** Cuts data into chunks of random sizes (many of one byte, some larger than the needle). */
function randomChunks(data: Buffer, maxChunk: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; ) {
    const size = 1 + Math.floor(Math.random() * Math.random() * maxChunk);
    chunks.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

/** A haystack made of random bytes, whole needles, and needle prefixes and suffixes (partial matches). */
function haystackFor(needle: Buffer, pieces: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < pieces; i++) {
    const cut = 1 + Math.floor(Math.random() * (needle.length - 1));
    const kind = Math.floor(Math.random() * 5);
    if (kind === 0) parts.push(needle);
    else if (kind === 1) parts.push(needle.subarray(0, cut));
    else if (kind === 2) parts.push(needle.subarray(cut));
    else if (kind === 3) parts.push(randomBytes(Math.floor(Math.random() * 3 * needle.length)));
    else parts.push(Buffer.from('\r\n-'.slice(0, 1 + Math.floor(Math.random() * 3)), 'latin1'));
  }
  return Buffer.concat(parts);
}

function randomNeedle(): Buffer {
  const kind = Math.floor(Math.random() * 3);
  // As busboy builds it: CRLF, two dashes, a boundary (browsers' boundaries start with dashes).
  if (kind === 0) return Buffer.from(`\r\n--${'-'.repeat(Math.floor(Math.random() * 6))}${randomBytes(1 + Math.floor(Math.random() * 12)).toString('hex')}`, 'latin1');
  // Self-overlapping needles, where a failed match can hide the start of the next.
  if (kind === 1) return Buffer.from('\r\n-'.repeat(1 + Math.floor(Math.random() * 4)) + 'a'.repeat(Math.floor(Math.random() * 3)), 'latin1');
  return randomBytes(1 + Math.floor(Math.random() * 20));
}

describe('streamsearch (infra/vendor/streamsearch, used by busboy)', () => {
  test('when busboy loads streamsearch, then it gets the vendored copy', () => {
    const resolved = require.resolve('streamsearch', { paths: [dirname(require.resolve('busboy'))] });
    const pkg = JSON.parse(readFileSync(join(dirname(resolved), '..', 'package.json'), 'utf8')) as { version: string };
    expect(pkg.version).toBe('1.1.0-indexof.2');
    expect(readFileSync(resolved, 'utf8')).toBe(readFileSync(join(vendor, 'lib', 'sbmh.js'), 'utf8'));
  });

  test("when fed upstream's own test cases, then it answers as upstream", () => {
    const cases: [string, string[]][] = [
      ['\r\n', ['foo', ' bar', '\r', '\n', 'baz, hello\r', '\n world.', '\r\n Node.JS rules!!\r\n\r\n']],
      ['---foobarbaz', ['---foobarbaz', 'asdf', '\r\n', '---foobarba', '---foobar', 'ba', '\r\n---foobarbaz--\r\n']],
    ];
    for (const [needle, chunks] of cases) {
      const buffers = chunks.map((chunk) => Buffer.from(chunk, 'latin1'));
      expect(run(Vendored, Buffer.from(needle), buffers)).toEqual(run(Upstream, Buffer.from(needle), buffers));
    }
  });

  test('when needles, haystacks and chunkings are random, then every callback is the same as upstream', () => {
    let matches = 0;
    for (let round = 0; round < 3000; round++) {
      const needle = randomNeedle();
      const haystack = haystackFor(needle, 1 + Math.floor(Math.random() * 40));
      const chunks = round % 3 === 0 ? [haystack] : randomChunks(haystack, needle.length * 4);
      const upstream = run(Upstream, needle, chunks);
      expect(run(Vendored, needle, chunks)).toEqual(upstream);
      matches += upstream.matches;
    }
    expect(matches).toBeGreaterThan(1000); // the cases do exercise matches, not only misses
  });

  test('when a chunk holds many places that start like the needle but are not it, then the callbacks are the same as upstream', () => {
    // The vendored copy searches for the needle's first 7 bytes and compares the rest; past 16 such false
    // starts in one chunk it searches for the whole needle. Both ways, around that switch, must answer as upstream.
    for (let round = 0; round < 200; round++) {
      const needle = Buffer.from(`\r\n--${randomBytes(2 + Math.floor(Math.random() * 14)).toString('hex')}`, 'latin1');
      const parts: Buffer[] = [];
      const pieces = Math.floor(Math.random() * 60);
      for (let i = 0; i < pieces; i++) {
        // A false start: 7 bytes or more of the needle, then something else.
        parts.push(needle.subarray(0, 7 + Math.floor(Math.random() * (needle.length - 7))), randomBytes(Math.floor(Math.random() * 4)));
        if (Math.random() < 0.1) parts.push(needle);
      }
      parts.push(needle, Buffer.from('--\r\n'));
      const haystack = Buffer.concat(parts);
      const chunks = round % 2 === 0 ? [haystack] : randomChunks(haystack, 400);
      const upstream = run(Upstream, needle, chunks);
      expect(run(Vendored, needle, chunks)).toEqual(upstream);
    }
  });

  test('when a large upload-like body is cut as a socket cuts it, then the callbacks are the same as upstream', () => {
    const needle = Buffer.from(`\r\n--${randomBytes(16).toString('hex')}`, 'latin1');
    const body = Buffer.concat([randomBytes(3 * 1024 * 1024 + 7), needle, Buffer.from('\r\n'), randomBytes(100_000), needle, Buffer.from('--\r\n')]);
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < body.length; offset += 65536) chunks.push(body.subarray(offset, offset + 65536));
    const upstream = run(Upstream, needle, chunks);
    expect(upstream.matches).toBe(2);
    expect(run(Vendored, needle, chunks)).toEqual(upstream);
  });
});

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { AppError } from '../../shared/errors';
import { InspectStream } from '../../server/upload/inspect-stream';

function inspector(maxBytes = 1000) {
  return new InspectStream({
    headBytes: 16,
    maxBytes,
    tooLarge: () => new AppError('too_large', 413, 'too large'),
    inspectHead: (head) => {
      if (head[0] !== 0x41) throw new AppError('bad_head', 415, 'bad head');
      return { headLength: head.length };
    },
  });
}

describe('InspectStream', () => {
  test('when bytes pass through, then they arrive unchanged with their size and SHA-256, after the head was inspected', async () => {
    const data = Buffer.concat([Buffer.from('A'), Buffer.alloc(700, 3)]);
    const stream = inspector();
    const out = buffer(Readable.from([data.subarray(0, 5), data.subarray(5, 300), data.subarray(300)]).pipe(stream));
    expect(await stream.inspection).toEqual({ headLength: 300 });
    expect((await out).equals(data)).toBe(true);
    expect(stream.bytesSeen).toBe(data.length);
    expect(stream.digest()).toBe(createHash('sha256').update(data).digest('hex'));
  });

  test('when the whole input is shorter than the head, then it is still inspected at the end', async () => {
    const stream = inspector();
    const out = buffer(Readable.from([Buffer.from('ABC')]).pipe(stream));
    expect(await stream.inspection).toEqual({ headLength: 3 });
    expect((await out).toString()).toBe('ABC');
  });

  test('when the head is refused, then the stream fails with that error and nothing passes', async () => {
    const stream = inspector();
    const chunks: Buffer[] = [];
    const errors: Error[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', (e) => errors.push(e));
    Readable.from([Buffer.alloc(100, 0x42)]).pipe(stream);
    await expect(stream.inspection).rejects.toMatchObject({ code: 'bad_head' });
    expect(chunks).toEqual([]);
    expect(errors).toEqual([expect.objectContaining({ code: 'bad_head' })]);
  });

  test('when more than maxBytes arrive, then the stream fails with the too-large error', async () => {
    const stream = inspector(50);
    const out = buffer(Readable.from([Buffer.from('A'), Buffer.alloc(30), Buffer.alloc(30)]).pipe(stream));
    await expect(out).rejects.toMatchObject({ code: 'too_large' });
  });
});

import type * as PartBuffers from '../../shared/storage/part-buffers';

/** Part buffers are kept from one upload to the next (a few of them), so V8 need not collect old ones. */
function freshModule(): typeof PartBuffers {
  let loaded!: typeof PartBuffers;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('../../shared/storage/part-buffers') as typeof PartBuffers;
  });
  return loaded;
}

describe('part buffers kept between uploads', () => {
  test('when buffers are handed back, then the next uploads of that part size get the same buffers', () => {
    const { takePartBuffer, keepPartBuffers } = freshModule();
    const first = [takePartBuffer(1024), takePartBuffer(1024)];
    keepPartBuffers(first);
    const again = [takePartBuffer(1024), takePartBuffer(1024)];
    expect(new Set(again)).toEqual(new Set(first));
    // Nothing kept any more: a third is new.
    expect(first).not.toContain(takePartBuffer(1024));
  });

  test('when a buffer of another size is asked for, then a kept one of the wrong size is not given', () => {
    const { takePartBuffer, keepPartBuffers } = freshModule();
    const small = takePartBuffer(1024);
    keepPartBuffers([small]);
    const large = takePartBuffer(2048);
    expect(large.length).toBe(2048);
    expect(takePartBuffer(1024)).toBe(small);
  });

  test('when more than four are handed back, or one twice, then four distinct buffers are kept', () => {
    const { takePartBuffer, keepPartBuffers } = freshModule();
    const buffers = Array.from({ length: 6 }, () => takePartBuffer(512));
    keepPartBuffers([buffers[0]!, buffers[0]!, ...buffers.slice(1)]);
    const taken = Array.from({ length: 5 }, () => takePartBuffer(512));
    expect(new Set(taken.slice(0, 4))).toEqual(new Set(buffers.slice(0, 4)));
    expect(buffers).not.toContain(taken[4]);
  });
});

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { dosDateTime, zipStream } from '../../server/services/zip-stream';

const run = promisify(execFile);

async function* chunks(parts: Buffer[]) {
  for (const part of parts) yield part;
}

describe('zipStream', () => {
  test('when files are zipped, then unzip lists and extracts them byte for byte (UTF-8 names, empty file too)', async () => {
    const big = Buffer.from(Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
    const files = { 'solidarity-demo-1-9x16-be.mp4': big, 'пост-be.txt': Buffer.from('Свабоду!\n'), 'empty.txt': Buffer.alloc(0) };
    const zip = await buffer(zipStream(Object.entries(files).map(([name, data]) => ({ name, open: async () => chunks([data.subarray(0, 1000), data.subarray(1000)]) })), new Date('2026-05-01T12:30:10Z')));
    const dir = await mkdtemp(join(tmpdir(), 'zip-test-'));
    try {
      await writeFile(join(dir, 'a.zip'), zip);
      const { stdout } = await run('python3', ['-c', 'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); print(z.testzip()); [print(i.filename, i.file_size, i.date_time) for i in z.infolist()]', join(dir, 'a.zip')]);
      expect(stdout.trim().split('\n')).toEqual([
        'None', // every CRC checks out
        'solidarity-demo-1-9x16-be.mp4 300000 (2026, 5, 1, 12, 30, 10)',
        'пост-be.txt 16 (2026, 5, 1, 12, 30, 10)',
        'empty.txt 0 (2026, 5, 1, 12, 30, 10)',
      ]);
      await run('python3', ['-c', 'import sys,zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', join(dir, 'a.zip'), join(dir, 'out')]);
      expect((await readFile(join(dir, 'out', 'solidarity-demo-1-9x16-be.mp4'))).equals(big)).toBe(true);
      expect(await readFile(join(dir, 'out', 'пост-be.txt'), 'utf8')).toBe('Свабоду!\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('when an entry fails to read, then the stream errors (no archive that looks complete)', async () => {
    const failing = async function* () {
      yield Buffer.from('x');
      throw new Error('S3 went away');
    };
    await expect(buffer(zipStream([{ name: 'a', open: async () => failing() }]))).rejects.toThrow('S3 went away');
  });

  test('DOS time has two-second steps and counts years from 1980', () => {
    expect(dosDateTime(new Date('1980-01-01T00:00:00Z'))).toEqual({ time: 0, date: 33 });
    expect(dosDateTime(new Date('2026-12-31T23:59:59Z'))).toEqual({ time: (23 << 11) | (59 << 5) | 29, date: (46 << 9) | (12 << 5) | 31 });
  });
});

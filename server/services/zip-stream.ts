import { Readable } from 'node:stream';
import { crc32 } from '../../shared/storage/checksum';

/**
 * A ZIP archive written as a stream: each entry is read once, in order, and passed through while its
 * CRC-32 is computed; sizes and CRC follow in a data descriptor, the central directory at the end. Nothing
 * is buffered whole and nothing touches the disk: memory is one chunk per entry in flight, whatever the
 * archive's size. Entries are stored, not compressed: video, JPEG and the like do not compress, and
 * storing keeps the CPU free. Names are UTF-8 (flag bit 11). Classic ZIP: up to 4 GiB and 65 535 entries.
 */

export interface ZipEntry {
  name: string;
  /** Opened when the archive reaches this entry (so only one source is open at a time). */
  open: () => Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>>;
}

export const ZIP_MAX_BYTES = 0xffffffff;
export const ZIP_MAX_ENTRIES = 0xffff;

const FLAGS = 0x0008 | 0x0800; // sizes in a data descriptor; UTF-8 names
const VERSION = 20;

export class ZipTooLargeError extends Error {}

/** DOS date and time of `at` (UTC), as ZIP stores them. */
export function dosDateTime(at: Date): { time: number; date: number } {
  const time = (at.getUTCHours() << 11) | (at.getUTCMinutes() << 5) | Math.floor(at.getUTCSeconds() / 2);
  const date = ((Math.max(1980, at.getUTCFullYear()) - 1980) << 9) | ((at.getUTCMonth() + 1) << 5) | at.getUTCDate();
  return { time, date };
}

function localHeader(name: Buffer, stamp: { time: number; date: number }): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(VERSION, 4);
  header.writeUInt16LE(FLAGS, 6);
  header.writeUInt16LE(0, 8); // stored
  header.writeUInt16LE(stamp.time, 10);
  header.writeUInt16LE(stamp.date, 12);
  // CRC and sizes: 0 here, in the data descriptor instead.
  header.writeUInt16LE(name.length, 26);
  header.writeUInt16LE(0, 28);
  return Buffer.concat([header, name]);
}

function dataDescriptor(crc: number, size: number): Buffer {
  const descriptor = Buffer.alloc(16);
  descriptor.writeUInt32LE(0x08074b50, 0);
  descriptor.writeUInt32LE(crc, 4);
  descriptor.writeUInt32LE(size, 8);
  descriptor.writeUInt32LE(size, 12);
  return descriptor;
}

interface Written {
  name: Buffer;
  crc: number;
  size: number;
  offset: number;
}

function centralEntry(entry: Written, stamp: { time: number; date: number }): Buffer {
  const header = Buffer.alloc(46);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(VERSION, 4);
  header.writeUInt16LE(VERSION, 6);
  header.writeUInt16LE(FLAGS, 8);
  header.writeUInt16LE(0, 10);
  header.writeUInt16LE(stamp.time, 12);
  header.writeUInt16LE(stamp.date, 14);
  header.writeUInt32LE(entry.crc, 16);
  header.writeUInt32LE(entry.size, 20);
  header.writeUInt32LE(entry.size, 24);
  header.writeUInt16LE(entry.name.length, 28);
  header.writeUInt32LE(entry.offset, 42);
  return Buffer.concat([header, entry.name]);
}

function endOfCentralDirectory(count: number, size: number, offset: number): Buffer {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(offset, 16);
  return end;
}

async function* zipChunks(entries: ZipEntry[], at: Date): AsyncGenerator<Uint8Array> {
  if (entries.length > ZIP_MAX_ENTRIES) throw new ZipTooLargeError(`more than ${ZIP_MAX_ENTRIES} files`);
  const stamp = dosDateTime(at);
  const written: Written[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const header = localHeader(name, stamp);
    const start = offset;
    yield header;
    offset += header.length;
    let crc = 0;
    let size = 0;
    for await (const chunk of await entry.open()) {
      crc = crc32(chunk, crc);
      size += chunk.length;
      offset += chunk.length;
      if (offset > ZIP_MAX_BYTES) throw new ZipTooLargeError('the archive would pass 4 GiB');
      yield chunk;
    }
    const descriptor = dataDescriptor(crc, size);
    yield descriptor;
    offset += descriptor.length;
    written.push({ name, crc, size, offset: start });
  }
  const directoryStart = offset;
  let directorySize = 0;
  for (const entry of written) {
    const central = centralEntry(entry, stamp);
    directorySize += central.length;
    yield central;
  }
  if (directoryStart + directorySize > ZIP_MAX_BYTES) throw new ZipTooLargeError('the archive would pass 4 GiB');
  yield endOfCentralDirectory(written.length, directorySize, directoryStart);
}

/** The archive as a readable stream (backpressure: an entry is read only as fast as the archive is consumed). */
export function zipStream(entries: ZipEntry[], at: Date = new Date()): Readable {
  return Readable.from(zipChunks(entries, at), { objectMode: false, highWaterMark: 64 * 1024 });
}

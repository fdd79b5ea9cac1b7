/**
 * An image's structure read from its bytes, not by a metadata reader: every JPEG segment up to the end-of-image
 * marker, every PNG chunk up to IEND, and how many bytes follow the end. The clean-image tests check that what
 * is left is only what draws the picture.
 */

export interface JpegSegment {
  marker: number;
  name: string;
  /** The segment's data after its length (empty for SOI/EOI). */
  data: Buffer;
}

const JPEG_NAMES: Record<number, string> = { 0xd8: 'SOI', 0xd9: 'EOI', 0xdb: 'DQT', 0xc4: 'DHT', 0xda: 'SOS', 0xdd: 'DRI', 0xfe: 'COM', 0xc0: 'SOF0', 0xc1: 'SOF1', 0xc2: 'SOF2' };
const jpegName = (marker: number) => JPEG_NAMES[marker] ?? (marker >= 0xe0 && marker <= 0xef ? `APP${marker - 0xe0}` : marker >= 0xd0 && marker <= 0xd7 ? 'RST' : `0x${marker.toString(16)}`);

/** The segments of a JPEG, its scans' data skipped; `trailing` is what comes after EOI. Throws if it is not a whole JPEG. */
export function jpegSegments(bytes: Buffer): { segments: JpegSegment[]; trailing: number } {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error('no SOI');
  const segments: JpegSegment[] = [{ marker: 0xd8, name: 'SOI', data: Buffer.alloc(0) }];
  let at = 2;
  for (;;) {
    if (at + 2 > bytes.length) throw new Error('no EOI');
    if (bytes[at] !== 0xff) throw new Error(`no marker at ${at}`);
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    if (marker === 0xd9) {
      segments.push({ marker, name: 'EOI', data: Buffer.alloc(0) });
      return { segments, trailing: bytes.length - (at + 2) };
    }
    const length = bytes.readUInt16BE(at + 2);
    const data = bytes.subarray(at + 4, at + 2 + length);
    segments.push({ marker, name: jpegName(marker), data });
    at += 2 + length;
    if (marker === 0xda) {
      // Entropy-coded data: up to a marker that is neither a stuffed zero nor a restart.
      for (;;) {
        at = bytes.indexOf(0xff, at);
        if (at < 0) throw new Error('scan without end');
        const next = bytes[at + 1]!;
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) at += 2;
        else break;
      }
    }
  }
}

export interface PngChunk {
  type: string;
  data: Buffer;
}

/** The chunks of a PNG; `trailing` is what comes after IEND. */
export function pngChunks(bytes: Buffer): { chunks: PngChunk[]; trailing: number } {
  if (bytes.readUInt32BE(0) !== 0x89504e47) throw new Error('no PNG signature');
  const chunks: PngChunk[] = [];
  let at = 8;
  for (;;) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    chunks.push({ type, data: bytes.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
    if (type === 'IEND') return { chunks, trailing: bytes.length - at };
    if (at > bytes.length) throw new Error('cut short');
  }
}

/** Only what a clean JPEG needs: SOI, JFIF APP0 (without a thumbnail), DQT, SOF0/SOF2, DHT, DRI, SOS, EOI. */
export const CLEAN_JPEG_SEGMENTS = new Set(['SOI', 'APP0', 'DQT', 'SOF0', 'SOF1', 'SOF2', 'DHT', 'DRI', 'SOS', 'EOI']);
/** Only what a clean PNG needs: IHDR, PLTE, tRNS, IDAT, IEND. */
export const CLEAN_PNG_CHUNKS = new Set(['IHDR', 'PLTE', 'tRNS', 'IDAT', 'IEND']);

/** What is wrong with a cleaned image's structure (an empty list when it is clean). */
export function structureProblems(bytes: Buffer): string[] {
  const problems: string[] = [];
  if (bytes[0] === 0xff) {
    const { segments, trailing } = jpegSegments(bytes);
    for (const s of segments) {
      if (!CLEAN_JPEG_SEGMENTS.has(s.name)) problems.push(`segment ${s.name}`);
      // JFIF: identifier, version, units, densities, and a 0 × 0 thumbnail (14 bytes), nothing else.
      if (s.name === 'APP0' && (s.data.toString('latin1', 0, 5) !== 'JFIF\0' || s.data.length !== 14 || s.data[12] !== 0 || s.data[13] !== 0)) problems.push('APP0 is not a bare JFIF header');
    }
    if (trailing) problems.push(`${trailing} bytes after EOI`);
  } else {
    const { chunks, trailing } = pngChunks(bytes);
    for (const c of chunks) if (!CLEAN_PNG_CHUNKS.has(c.type)) problems.push(`chunk ${c.type}`);
    if (trailing) problems.push(`${trailing} bytes after IEND`);
  }
  return problems;
}

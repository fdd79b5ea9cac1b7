import { crc32, deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { jpegSegment, pngChunk } from './images';

/**
 * Photos as phones write them, made here byte by byte: a picture encoded by sharp, then EXIF (orientation,
 * GPS, camera, serial, a maker note, a thumbnail of another picture), XMP with a location, IPTC, a colour
 * profile, and files appended after the end. No exiftool, no binary fixtures.
 */

export const SECRET = 'GPS 53.9023 27.5619 serial 4C1234';
export const PLACE = 'Salihorsk potash mine gate 3';

/** A picture that shows which way is up: four quadrants of different colours (top-left red, top-right green, bottom-left blue, bottom-right yellow). */
export const QUADRANTS = { topLeft: [220, 30, 30], topRight: [30, 200, 30], bottomLeft: [30, 30, 220], bottomRight: [230, 230, 40] } as const;

export function quadrantsRaw(width: number, height: number): { data: Buffer; width: number; height: number } {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const colour = y < height / 2 ? (x < width / 2 ? QUADRANTS.topLeft : QUADRANTS.topRight) : x < width / 2 ? QUADRANTS.bottomLeft : QUADRANTS.bottomRight;
      data.set(colour, (y * width + x) * 3);
    }
  }
  return { data, width, height };
}

const rawInput = (raw: { data: Buffer; width: number; height: number }) => sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 3 } });

/**
 * The picture as a camera stores it for EXIF orientation `o`: what a viewer shows after applying `o` is the
 * upright picture. (2 mirror, 3 half turn, 4 flip, 5 transpose, 6 turn a quarter clockwise to show, 7
 * transverse, 8 a quarter anticlockwise.) Each step is its own sharp pass, so their order is certain.
 */
export async function storedFor(orientation: number, raw: { data: Buffer; width: number; height: number }): Promise<{ data: Buffer; width: number; height: number }> {
  const steps: Record<number, Array<(s: Sharp) => Sharp>> = {
    1: [],
    2: [(s) => s.flop()],
    3: [(s) => s.rotate(180)],
    4: [(s) => s.flip()],
    5: [(s) => s.rotate(90), (s) => s.flop()],
    6: [(s) => s.rotate(270)],
    7: [(s) => s.rotate(270), (s) => s.flop()],
    8: [(s) => s.rotate(90)],
  };
  let current = raw;
  for (const step of steps[orientation]!) {
    const { data, info } = await step(rawInput(current)).raw().toBuffer({ resolveWithObject: true });
    current = { data, width: info.width, height: info.height };
  }
  return current;
}

// ——— EXIF (TIFF, little-endian) ———

interface IfdEntry {
  tag: number;
  type: number;
  count: number;
  bytes: Buffer;
}

const ascii = (tag: number, text: string): IfdEntry => ({ tag, type: 2, count: text.length + 1, bytes: Buffer.from(`${text}\0`, 'latin1') });
const short = (tag: number, value: number): IfdEntry => {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16LE(value);
  return { tag, type: 3, count: 1, bytes };
};
const long = (tag: number, value: number): IfdEntry => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value);
  return { tag, type: 4, count: 1, bytes };
};
const rationals = (tag: number, values: Array<[number, number]>): IfdEntry => {
  const bytes = Buffer.alloc(values.length * 8);
  values.forEach(([n, d], i) => {
    bytes.writeUInt32LE(n, i * 8);
    bytes.writeUInt32LE(d, i * 8 + 4);
  });
  return { tag, type: 5, count: values.length, bytes };
};
const undefinedBytes = (tag: number, bytes: Buffer): IfdEntry => ({ tag, type: 7, count: bytes.length, bytes });

const ifdSize = (entries: IfdEntry[]) => 2 + entries.length * 12 + 4 + entries.reduce((sum, e) => sum + (e.bytes.length > 4 ? e.bytes.length + (e.bytes.length % 2) : 0), 0);

function writeIfd(out: Buffer, at: number, entries: IfdEntry[], next: number): void {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  out.writeUInt16LE(sorted.length, at);
  let data = at + 2 + sorted.length * 12 + 4;
  sorted.forEach((e, i) => {
    const p = at + 2 + i * 12;
    out.writeUInt16LE(e.tag, p);
    out.writeUInt16LE(e.type, p + 2);
    out.writeUInt32LE(e.count, p + 4);
    if (e.bytes.length <= 4) e.bytes.copy(out, p + 8);
    else {
      out.writeUInt32LE(data, p + 8);
      e.bytes.copy(out, data);
      data += e.bytes.length + (e.bytes.length % 2);
    }
  });
  out.writeUInt32LE(next, at + 2 + sorted.length * 12);
}

export interface ExifOptions {
  orientation?: number;
  /** GPS latitude/longitude in the GPS IFD. */
  gps?: boolean;
  /** A maker note (Exif IFD 0x927c) carrying SECRET. */
  makerNote?: boolean;
  /** A JPEG thumbnail (IFD1) — of another picture. */
  thumbnail?: Buffer;
}

/** An EXIF APP1 segment: camera and serial in IFD0/Exif IFD, and what the options ask for. */
export function exifSegment(options: ExifOptions): Buffer {
  const exifIfd = [ascii(0xa431, 'SN-4C1234'), ...(options.makerNote ? [undefinedBytes(0x927c, Buffer.from(`Apple iOS\0\0\x01MM ${SECRET} ${PLACE}`, 'latin1'))] : [])];
  const gpsIfd = options.gps ? [ascii(1, 'N'), rationals(2, [[53, 1], [54, 1], [802, 100]]), ascii(3, 'E'), rationals(4, [[27, 1], [33, 1], [4284, 100]])] : [];
  const ifd0 = (exifAt: number, gpsAt: number) => [
    ascii(0x010f, 'Google'),
    ascii(0x0110, 'Pixel 8'),
    short(0x0112, options.orientation ?? 1),
    long(0x8769, exifAt),
    ...(options.gps ? [long(0x8825, gpsAt)] : []),
  ];
  const ifd1 = (thumbAt: number) => (options.thumbnail ? [short(0x0103, 6), long(0x0201, thumbAt), long(0x0202, options.thumbnail.length)] : []);
  const ifd0At = 8;
  const exifAt = ifd0At + ifdSize(ifd0(0, 0));
  const gpsAt = exifAt + ifdSize(exifIfd);
  const ifd1At = gpsAt + (options.gps ? ifdSize(gpsIfd) : 0);
  const thumbAt = ifd1At + (options.thumbnail ? ifdSize(ifd1(0)) : 0);
  const tiff = Buffer.alloc(thumbAt + (options.thumbnail?.length ?? 0));
  tiff.write('II*\0', 0, 'latin1');
  tiff.writeUInt32LE(ifd0At, 4);
  writeIfd(tiff, ifd0At, ifd0(exifAt, gpsAt), options.thumbnail ? ifd1At : 0);
  writeIfd(tiff, exifAt, exifIfd, 0);
  if (options.gps) writeIfd(tiff, gpsAt, gpsIfd, 0);
  if (options.thumbnail) {
    writeIfd(tiff, ifd1At, ifd1(thumbAt), 0);
    options.thumbnail.copy(tiff, thumbAt);
  }
  return jpegSegment(0xffe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]));
}

/** An XMP APP1 segment with a location and a person's name. */
export function xmpSegment(): Buffer {
  const packet = `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" exif:GPSLatitude="53,54.0802N" exif:GPSLongitude="27,33.4284E" photoshop:City="${PLACE}" photoshop:Credit="${SECRET}"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;
  return jpegSegment(0xffe1, Buffer.concat([Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1'), Buffer.from(packet, 'utf8')]));
}

/** An IPTC block (Photoshop APP13) with a city. */
export function iptcSegment(): Buffer {
  const city = Buffer.from(PLACE, 'latin1');
  const dataset = Buffer.concat([Buffer.from([0x1c, 0x02, 90, 0, city.length]), city]);
  const resource = Buffer.concat([Buffer.from('8BIM', 'latin1'), Buffer.from([0x04, 0x04, 0, 0]), Buffer.alloc(4), dataset]);
  resource.writeUInt32BE(dataset.length, 8);
  return jpegSegment(0xffed, Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), resource, dataset.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]));
}

/** A ZIP with one stored file (what a polyglot appends after the image: readers look for its end record). */
export function zipWith(name: string, content: string): Buffer {
  const data = Buffer.from(content);
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(10, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(name.length, 28);
  const localPart = Buffer.concat([local, Buffer.from(name), data]);
  const centralPart = Buffer.concat([central, Buffer.from(name)]);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(centralPart.length, 12);
  end.writeUInt32LE(localPart.length, 16);
  return Buffer.concat([localPart, centralPart, end]);
}

/** A JPEG of the raw picture (optionally tagged with a colour profile), and the segments given put after its SOI. */
export async function jpegOf(raw: { data: Buffer; width: number; height: number }, segments: Buffer[] = [], options: { icc?: string; quality?: number } = {}): Promise<Buffer> {
  let s = rawInput(raw);
  if (options.icc) s = s.withIccProfile(options.icc);
  const jpeg = await s.jpeg({ quality: options.quality ?? 92 }).toBuffer();
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}

/** A phone-like photo: the picture stored for `orientation`, with EXIF (GPS, maker note, a thumbnail of a different picture), XMP and IPTC. */
export async function phonePhoto(raw: { data: Buffer; width: number; height: number }, orientation = 1): Promise<Buffer> {
  const thumbnail = await sharp({ create: { width: 160, height: 120, channels: 3, background: { r: 0, g: 255, b: 0 } } }).jpeg().toBuffer();
  return jpegOf(await storedFor(orientation, raw), [exifSegment({ orientation, gps: true, makerNote: true, thumbnail }), xmpSegment(), iptcSegment()]);
}

/** A PNG that says it is `width` × `height` (20 000 × 20 000: 400 million pixels) in a file of a few hundred bytes. */
export function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  // The first rows of zeros; a real bomb would go on for gigabytes, the header alone must stop it.
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(Buffer.alloc(1 << 20))), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A small JPEG whose frame header says `width` × `height`. */
export async function jpegBomb(width: number, height: number): Promise<Buffer> {
  const jpeg = Buffer.from(await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).jpeg().toBuffer());
  for (let at = 2; at < jpeg.length; ) {
    const marker = jpeg[at + 1]!;
    if (marker === 0xc0 || marker === 0xc2) {
      jpeg.writeUInt16BE(height, at + 5);
      jpeg.writeUInt16BE(width, at + 7);
      return jpeg;
    }
    at += 2 + jpeg.readUInt16BE(at + 2);
  }
  throw new Error('no frame header');
}

/** The corner colours of a decoded picture (4 px in), and its size. */
export async function corners(image: Buffer): Promise<{ width: number; height: number; topLeft: number[]; topRight: number[]; bottomLeft: number[]; bottomRight: number[] }> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
  const [r, b] = [info.width - 5, info.height - 5];
  return { width: info.width, height: info.height, topLeft: at(4, 4), topRight: at(r, 4), bottomLeft: at(4, b), bottomRight: at(r, b) };
}

/**
 * A HEIC container (brand heic, an hvc1 item with its hvcC box), made from sharp's AVIF by swapping the codec
 * boxes: what an iPhone sends, as far as any reader can tell before decoding the HEVC data.
 */
export async function heicFile(): Promise<Buffer> {
  const avif = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#f00' } }).avif().toBuffer();
  const box = (type: string, payload: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(8 + payload.length);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, payload]);
  };
  // Boxes that hold boxes, and the bytes before their children (full boxes' version and flags, iinf's count).
  const containers: Record<string, number> = { meta: 4, iprp: 0, ipco: 0, iinf: 6 };
  const minimalHvcC = Buffer.from([1, 1, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93, 0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 0]);
  const rewrite = (bytes: Buffer): Buffer => {
    const out: Buffer[] = [];
    for (let at = 0; at + 8 <= bytes.length; ) {
      const size = bytes.readUInt32BE(at);
      const type = bytes.toString('latin1', at + 4, at + 8);
      let payload = bytes.subarray(at + 8, at + size);
      if (type === 'ftyp') out.push(box(type, Buffer.from(payload.toString('latin1').replace(/avif/g, 'heic'), 'latin1')));
      else if (type === 'av1C') out.push(box('hvcC', minimalHvcC));
      else if (type === 'infe') out.push(box(type, Buffer.from(payload.toString('latin1').replace('av01', 'hvc1'), 'latin1')));
      else if (type in containers) {
        const skip = containers[type]!;
        payload = Buffer.concat([payload.subarray(0, skip), rewrite(payload.subarray(skip))]);
        out.push(box(type, payload));
      } else out.push(box(type, payload));
      at += size;
    }
    return Buffer.concat(out);
  };
  return rewrite(avif);
}

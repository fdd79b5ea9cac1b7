import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import type { ObjectStorage } from '../../shared/storage/object-storage';
import { submissionPrefixes } from '../../shared/storage/keys';
import { ffprobeJson } from './fixtures';

/**
 * The tags an output may still carry, each with the only values it may have: container brands, and the
 * per-stream names ffmpeg writes itself with `bitexact` (no version, no device, no place, no time). A tag
 * not listed, or a listed tag with another value (a phone's "Core Media Video" handler, an encoder with a
 * version, a vendor id), is a finding.
 */
export const ALLOWED_TAG_VALUES: Readonly<Record<'format' | 'stream', Readonly<Record<string, RegExp>>>> = {
  format: { major_brand: /^isom$/, minor_version: /^512$/, compatible_brands: /^isomiso2avc1mp41$/ },
  stream: { language: /^(und|[a-z]{3})$/, handler_name: /^(VideoHandler|SoundHandler)$/, vendor_id: /^\[0\]\[0\]\[0\]\[0\]$/, encoder: /^Lavc libx264$/ },
};

/** What the source said about its maker, place and time: every one must be absent from every object. */
export interface SourceTraces {
  /** Text searched for in every object's raw bytes (GPS digits, make, model, software, dates…). */
  strings: string[];
  /** The source's creation time: searched for as QuickTime writes it (seconds since 1904, 32- and 64-bit). */
  createdAt?: Date;
}

export interface SweepReport {
  /** Every key checked, sorted. */
  checked: string[];
  /** Keys passed over by the caller's `exempt` (the raw uploads while they are kept). */
  exempt: string[];
  /** One line per finding: `<key>: <what>`. Empty when nothing was found. */
  findings: string[];
}

/** Seconds since 1904-01-01 (QuickTime's epoch), as mvhd/tkhd/mdhd carry a creation time. */
function quickTimeSeconds(date: Date): bigint {
  return BigInt(Math.floor(date.getTime() / 1000)) + 2_082_844_800n;
}

function binaryTimes(date: Date): Buffer[] {
  const seconds = quickTimeSeconds(date);
  const b32 = Buffer.alloc(4);
  b32.writeUInt32BE(Number(seconds));
  const b64 = Buffer.alloc(8);
  b64.writeBigUInt64BE(seconds);
  return [b32, b64];
}

/**
 * An APP11 segment of a C2PA manifest: JPEG XT's "JP" header (box instance, sequence number), then a JUMBF box
 * labelled `c2pa`; a manifest longer than a segment goes on in segments of the same box instance.
 */
function isC2paSegment(payload: Buffer, c2paInstances: Set<number>): boolean {
  if (payload.subarray(0, 2).toString('latin1') !== 'JP' || payload.subarray(12, 16).toString('latin1') !== 'jumb') return false;
  const instance = payload.readUInt16BE(2);
  if (payload.subarray(0, 80).includes(Buffer.from('c2pa\0', 'latin1'))) c2paInstances.add(instance);
  return c2paInstances.has(instance);
}

/**
 * The markers of a JPEG, from SOI up to its first SOS (the header: where APPn and COM blocks live), as
 * `APP0`, `APP1`, `COM`, `DQT`… (a C2PA manifest: `APP11(c2pa)`); throws when the bytes are not a JPEG.
 */
export function jpegMarkers(bytes: Buffer): string[] {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new Error('not a JPEG (no SOI)');
  const names: string[] = [];
  const c2paInstances = new Set<number>();
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw new Error(`JPEG header broken at byte ${at}`);
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    const name = marker >= 0xe0 && marker <= 0xef ? `APP${marker - 0xe0}` : marker === 0xfe ? 'COM' : marker === 0xda ? 'SOS' : `0x${marker.toString(16)}`;
    names.push(name === 'APP11' && isC2paSegment(bytes.subarray(at + 4, at + 2 + bytes.readUInt16BE(at + 2)), c2paInstances) ? 'APP11(c2pa)' : name);
    if (marker === 0xda) break;
    at += 2 + bytes.readUInt16BE(at + 2);
  }
  return names;
}

function kindOf(key: string, bytes: Buffer): 'jpeg' | 'media' | 'text' | 'other' {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpeg';
  if (bytes.subarray(4, 8).toString('latin1') === 'ftyp' || /\.(mp4|mov)$|\/video$/.test(key)) return 'media';
  if (/\.(srt|vtt)$|\/subtitles$/.test(key)) return 'text';
  return 'other';
}

async function mediaFindings(bytes: Buffer): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'privacy-sweep-'));
  try {
    const path = join(dir, 'object');
    await writeFile(path, bytes);
    const probe = await ffprobeJson(path);
    const findings: string[] = [];
    const check = (where: string, tags: Record<string, string> | undefined, allowed: Readonly<Record<string, RegExp>>) => {
      for (const [name, value] of Object.entries(tags ?? {})) {
        const rule = Object.hasOwn(allowed, name) ? allowed[name] : undefined;
        if (!rule) findings.push(`${where} tag ${name}=${JSON.stringify(value)} is not allowed`);
        else if (!rule.test(value)) findings.push(`${where} tag ${name} has the value ${JSON.stringify(value)}`);
      }
    };
    check('format', probe.format.tags, ALLOWED_TAG_VALUES.format);
    for (const stream of probe.streams) check(`stream ${String(stream.index)} (${stream.codec_type})`, stream.tags, ALLOWED_TAG_VALUES.stream);
    if (probe.chapters.length > 0) findings.push(`${probe.chapters.length} chapters`);
    const kinds = probe.streams.map((s) => s.codec_type).filter((t) => t !== 'video' && t !== 'audio');
    if (kinds.length > 0) findings.push(`streams other than picture and sound: ${kinds.join(', ')}`);
    return findings;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The findings of one object's bytes: its traces of the source, and by its kind its tags or JPEG markers. */
export async function objectFindings(key: string, bytes: Buffer, source: SourceTraces): Promise<string[]> {
  const findings: string[] = [];
  for (const text of source.strings) if (bytes.includes(Buffer.from(text, 'utf8'))) findings.push(`the bytes hold "${text}"`);
  if (source.createdAt) {
    for (const time of binaryTimes(source.createdAt)) if (bytes.includes(time)) findings.push(`the bytes hold the source's creation time (${time.length * 8}-bit, since 1904)`);
  }
  const kind = kindOf(key, bytes);
  if (kind === 'jpeg') {
    const markers = jpegMarkers(bytes);
    // APP0 (JFIF) and the campaign's C2PA manifest (APP11(c2pa): its text is searched above like every byte) only:
    // APP1 is EXIF or XMP, APP2 ICC/FlashPix/MPF, APP13 Photoshop/IPTC, another APP11 anything, COM free text.
    const extra = markers.filter((m) => /^APP([1-9]|1[0-5])$/.test(m) || m === 'COM');
    if (extra.length > 0) findings.push(`JPEG markers ${extra.join(', ')}`);
  }
  if (kind === 'media') findings.push(...(await mediaFindings(bytes)));
  return findings;
}

/**
 * The privacy sweep: every object stored for a submission, under every prefix the project writes for one
 * (shared/storage/keys.ts `submissionPrefixes`) and anywhere else in the bucket whose key names the id,
 * checked for the source's traces (raw bytes), its tags (ffprobe: names and values, format and streams) and
 * its JPEG markers. `exempt` keys (the raw uploads, kept until the retention job) are listed, not checked.
 */
export async function privacySweep(storage: ObjectStorage, submissionId: string, source: SourceTraces, exempt: string[] = []): Promise<SweepReport> {
  const under = (await Promise.all(submissionPrefixes(submissionId).map((prefix) => storage.list(prefix)))).flat();
  const elsewhere = (await storage.list('')).filter((key) => key.includes(submissionId));
  const keys = [...new Set([...under, ...elsewhere])].sort();
  const report: SweepReport = { checked: [], exempt: [], findings: [] };
  for (const key of keys) {
    if (exempt.includes(key)) {
      report.exempt.push(key);
      continue;
    }
    const bytes = await buffer(await storage.download(key));
    for (const finding of await objectFindings(key, bytes, source)) report.findings.push(`${key}: ${finding}`);
    report.checked.push(key);
  }
  return report;
}

/** The findings in text the project served (feeds, pages): the source's traces. */
export function textFindings(where: string, text: string, source: SourceTraces): string[] {
  return source.strings.filter((needle) => text.includes(needle)).map((needle) => `${where}: holds "${needle}"`);
}

/**
 * What a source file says about its maker, place and time, read from its own tags (ffprobe): the values of
 * location, make, model, software and date tags, split into the pieces that would survive a reformatting
 * (each GPS coordinate's digits, the date's day). Pieces under 5 characters are left out (they would be
 * found in any compressed stream by chance).
 */
export async function sourceTraces(path: string): Promise<SourceTraces> {
  const probe = await ffprobeJson(path);
  const strings = new Set<string>();
  let createdAt: Date | undefined;
  const all = [probe.format.tags ?? {}, ...probe.streams.map((s) => s.tags ?? {})];
  for (const tags of all) {
    for (const [name, value] of Object.entries(tags)) {
      const lower = name.toLowerCase();
      if (/location|gps|xyz/.test(lower)) for (const coordinate of value.match(/\d+\.\d{3,}/g) ?? []) strings.add(coordinate.replace(/^0+(?=\d)/, ''));
      else if (/make|model|software|artist|author|copyright/.test(lower)) strings.add(value.trim());
      else if (/creation_time|date/.test(lower)) {
        const day = /^\d{4}-\d{2}-\d{2}/.exec(value)?.[0];
        if (day && !day.startsWith('1970') && !day.startsWith('1904')) {
          strings.add(day);
          strings.add(day.replace(/-/g, ':')); // as EXIF writes it
          createdAt ??= new Date(value);
        }
      }
    }
  }
  // An XMP packet (a uuid box, an udta XMP_ box) that ffprobe does not show: its place, maker, tool, dates and
  // document ids (which tie a file to the one it came from).
  const text = (await readFile(path)).toString('latin1');
  for (const packet of text.match(/<x:xmpmeta[\s\S]*?<\/x:xmpmeta>/g) ?? []) {
    const fields = /(?:<|\s)(exif:GPS(?:Latitude|Longitude)|tiff:(?:Make|Model)|xmp:CreatorTool|xmpMM:(?:Instance|Document|OriginalDocument)ID|(?:xmp:(?:Create|Modify|Metadata)Date|exif:DateTimeOriginal|photoshop:DateCreated))(?:>([^<]+)<|="([^"]+)")/g;
    for (const [, name, element, attribute] of packet.matchAll(fields)) {
      const value = (element ?? attribute ?? '').trim();
      if (/Date/.test(name!)) strings.add(value.slice(0, 10));
      else strings.add(value);
    }
  }
  return { strings: [...strings].filter((s) => s.length >= 5), ...(createdAt && !Number.isNaN(createdAt.getTime()) ? { createdAt } : {}) };
}

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Media fixtures are made with ffmpeg by recipe, not committed; cached per run in the temp folder. */
const FIXTURE_DIR = join(tmpdir(), 'solidarity-fixtures');

/**
 * A fixture made once: test files run side by side (two jest workers, other checkouts on the same machine), so
 * each is made under a name of its own and renamed into place whole; a file another process is still writing
 * is never read half-made.
 */
export async function makeFixture(name: string, ffmpegArgs: string[]): Promise<string> {
  await mkdir(FIXTURE_DIR, { recursive: true });
  const path = join(FIXTURE_DIR, name);
  const exists = await stat(path).then((s) => s.size > 0, () => false);
  if (!exists) {
    const partial = join(FIXTURE_DIR, partialName(name));
    try {
      await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...ffmpegArgs, partial], { timeout: 120_000 });
      await rename(partial, path);
    } finally {
      await rm(partial, { force: true });
    }
  }
  return path;
}

/** A name of this process's own, keeping the extension (ffmpeg picks the format from it). */
function partialName(name: string): string {
  return `.partial-${process.pid}-${randomBytes(4).toString('hex')}-${name}`;
}

/** Writes a fixture whole: to a name of its own first, then renamed into place. */
async function writeWhole(path: string, bytes: Buffer | string): Promise<void> {
  const partial = join(dirname(path), partialName(basename(path)));
  await writeFile(partial, bytes);
  await rename(partial, path);
}

/** A short, valid phone-like MP4: H.264 + AAC, 2 s, 320x240. */
export async function smallMp4(): Promise<Buffer> {
  const path = await makeFixture('small.mp4', [
    '-f', 'lavfi', '-i', 'testsrc2=duration=2:size=320x240:rate=25',
    '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2:sample_rate=48000',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest',
  ]);
  return readFile(path);
}

const SOURCE_VIDEO = (seconds: number, size = '640x360', rate = 30) => ['-f', 'lavfi', '-i', `testsrc2=duration=${seconds}:size=${size}:rate=${rate}`];
// A steady tone at about −49 LUFS (quieter than speech; test/integration/loudness.test.ts has the loudness cases).
const SOURCE_TONE = (seconds: number) => ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds},volume=-27dB`];
const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];

/**
 * The clips the worker tests need, each made by an ffmpeg recipe (nothing binary is committed).
 * Every recipe mimics something phones and cameras really produce.
 */
export const FIXTURES: Record<string, () => Promise<string>> = {
  /** A portrait phone clip: stored landscape, a display matrix says turn 90° clockwise. */
  rotated: async () => {
    const path = await makeFixture('rotated-source.mp4', [...SOURCE_VIDEO(3), ...SOURCE_TONE(3), ...X264, '-c:a', 'aac', '-shortest']);
    return patchFirstTrackMatrix(path, join(FIXTURE_DIR, 'rotated.mp4'), turnClockwiseMatrix(360));
  },
  /** A 10-bit HLG HEVC clip, as recent iPhones and Pixels record. */
  hlgHevc: () =>
    makeFixture('hlg-hevc.mp4', [
      ...SOURCE_VIDEO(2, '1280x720'), ...SOURCE_TONE(2),
      '-c:v', 'libx265', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p10le', '-tag:v', 'hvc1',
      '-x265-params', 'log-level=error:colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc',
      '-color_primaries', 'bt2020', '-color_trc', 'arib-std-b67', '-colorspace', 'bt2020nc', '-c:a', 'aac', '-shortest',
    ]),
  /** Variable frame rate: irregular gaps between frames. */
  vfr: () =>
    makeFixture('vfr.mp4', [...SOURCE_VIDEO(4), ...SOURCE_TONE(4), '-vf', 'select=lt(mod(n\\,7)\\,4)', '-fps_mode', 'vfr', ...X264, '-c:a', 'aac', '-shortest']),
  /** Picture only. */
  noAudio: () => makeFixture('no-audio.mp4', [...SOURCE_VIDEO(2), ...X264, '-an']),
  /** Sound only, in an MP4 (M4A) container: passes the upload's container check, not the worker's. */
  audioOnly: () => makeFixture('audio-only.m4a', [...SOURCE_TONE(2), '-c:a', 'aac']),
  /** Apple-style QuickTime tags (make, model, software, GPS, creation date), chapters, and a timecode data track. */
  appleTagged: async () => {
    const chapters = await makeChapters();
    return makeFixture('apple-tagged.mov', [
      ...SOURCE_VIDEO(3), ...SOURCE_TONE(3), '-i', chapters,
      '-map', '0:v', '-map', '1:a', '-map_metadata', '2', '-map_chapters', '2',
      ...X264, '-c:a', 'aac', '-shortest', '-timecode', '01:00:00:00',
      '-metadata', 'com.apple.quicktime.make=Apple', '-metadata', 'com.apple.quicktime.model=iPhone 15 Pro',
      '-metadata', 'com.apple.quicktime.software=17.4', '-metadata', 'com.apple.quicktime.location.ISO6709=+53.9006+027.5590+220.000/',
      '-metadata', 'creation_time=2024-03-01T10:00:00Z', '-movflags', 'use_metadata_tags',
    ]);
  },
  /** Android-style tags: ©xyz location, com.android.version, a creation time. */
  androidTagged: () =>
    makeFixture('android-tagged.mp4', [
      ...SOURCE_VIDEO(2), ...SOURCE_TONE(2), ...X264, '-c:a', 'aac', '-shortest',
      '-metadata', 'location=+53.9006+027.5590/', '-metadata', 'location-eng=+53.9006+027.5590/',
      '-metadata', 'com.android.version=14', '-metadata', 'creation_time=2024-03-01T10:00:00Z',
    ]),
  /**
   * Every kind of tag a phone leaves, at once and with values found nowhere else (test/helpers/privacy-sweep.ts
   * searches every output for them): Apple's QuickTime keys (make, model, ISO 6709 location), a creation time
   * (also in the movie and track headers), an Android-style ©xyz location in the movie's udta, and an XMP packet
   * (GPS, make, model, dates, creator tool) in a top-level uuid box, as Adobe and some phones write it.
   */
  everyTag: async () => {
    const source = await makeFixture('every-tag-source.mov', [
      ...SOURCE_VIDEO(3), ...SOURCE_TONE(3), ...X264, '-c:a', 'aac', '-shortest',
      '-metadata', `com.apple.quicktime.make=${TAGGED.make}`, '-metadata', `com.apple.quicktime.model=${TAGGED.model}`,
      '-metadata', `com.apple.quicktime.software=${TAGGED.software}`,
      '-metadata', `com.apple.quicktime.location.ISO6709=${TAGGED.iso6709}+301.000/`,
      '-metadata', `location=${TAGGED.iso6709}/`, '-metadata', `creation_time=${TAGGED.createdAt}`, '-movflags', 'use_metadata_tags',
    ]);
    const target = join(FIXTURE_DIR, 'every-tag.mov');
    await writeFile(target, withXmpAndAndroidLocation(await readFile(source)));
    return target;
  },
  /** A tiny Matroska file whose header claims ten hours. */
  tenHourClaim: async () => {
    const path = await makeFixture('ten-hours-claim-source.mkv', [...SOURCE_VIDEO(1, '320x240'), ...X264]);
    const bytes = await readFile(path);
    // Segment Info › Duration (EBML id 0x4489, 8-byte float, in milliseconds) → 36 000 000 ms.
    const at = bytes.indexOf(Buffer.from([0x44, 0x89, 0x88]));
    if (at < 0) throw new Error('no Duration element to patch');
    bytes.writeDoubleBE(36_000_000, at + 3);
    const patched = join(FIXTURE_DIR, 'ten-hours-claim.mkv');
    await writeWhole(patched, bytes);
    return patched;
  },
  /** A clip whose encode lasts a few seconds: long enough to be caught, and held (SIGSTOP), in the middle. */
  shortEncode: () => makeFixture('short-encode.mp4', [...SOURCE_VIDEO(8), ...SOURCE_TONE(8), ...X264, '-c:a', 'aac', '-shortest']),
  /** A clip long enough for an encode to be caught in the middle without holding it. */
  long: () => makeFixture('long.mp4', [...SOURCE_VIDEO(40, '1280x720'), ...SOURCE_TONE(40), ...X264, '-c:a', 'aac', '-shortest']),
};

/** The values of the `everyTag` fixture: each must be absent from everything the project makes of it. */
export const TAGGED = {
  make: 'Sweepmaker',
  model: 'Sweepphone X9',
  software: 'SweepOS 17.4.1',
  /** Lviv's Rynok Square, written as ISO 6709 (the GPS digits searched for: 49.8417 and 24.0316). */
  iso6709: '+49.8417+024.0316',
  latitude: '49.8417',
  longitude: '24.0316',
  /** XMP writes GPS as degrees and decimal minutes. */
  xmpLatitude: '49,50.502N',
  xmpLongitude: '24,1.896E',
  creatorTool: 'SweepCam Studio',
  createdAt: '2023-07-19T08:41:17Z',
} as const;

function box(type: string, ...children: Buffer[]): Buffer {
  const body = Buffer.concat(children);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

/**
 * Adds to a QuickTime file whose movie box comes last (ffmpeg's default): an Android-style `©xyz` location in
 * a `udta` of the movie box (appended inside it, so no chunk offset moves), and a top-level XMP `uuid` box.
 */
function withXmpAndAndroidLocation(bytes: Buffer): Buffer {
  let at = 0;
  let moov = -1;
  while (at + 8 <= bytes.length) {
    if (bytes.toString('latin1', at + 4, at + 8) === 'moov') moov = at;
    at += bytes.readUInt32BE(at);
  }
  if (moov < 0 || moov + bytes.readUInt32BE(moov) !== bytes.length) throw new Error('the movie box is not the last box');
  const text = Buffer.from(`${TAGGED.iso6709}/`, 'latin1');
  const length = Buffer.alloc(4);
  length.writeUInt16BE(text.length);
  length.writeUInt16BE(0x15c7, 2); // language: English, packed ISO 639-2
  const udta = box('udta', box('\u00a9xyz', length, text));
  const grown = Buffer.concat([bytes, udta]);
  grown.writeUInt32BE(bytes.readUInt32BE(moov) + udta.length, moov);
  const xmp = Buffer.from(
    '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
      '<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/">' +
      `<exif:GPSLatitude>${TAGGED.xmpLatitude}</exif:GPSLatitude><exif:GPSLongitude>${TAGGED.xmpLongitude}</exif:GPSLongitude>` +
      `<tiff:Make>${TAGGED.make}</tiff:Make><tiff:Model>${TAGGED.model}</tiff:Model>` +
      `<xmp:CreateDate>${TAGGED.createdAt}</xmp:CreateDate><xmp:CreatorTool>${TAGGED.creatorTool}</xmp:CreatorTool>` +
      '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>',
    'utf8',
  );
  const xmpUuid = Buffer.from('be7acfcb97a942e89c71999491e3afac', 'hex');
  return Buffer.concat([grown, box('uuid', xmpUuid, xmp)]);
}

/** The display matrix a phone held upright writes: turn 90° clockwise; `height` is the stored picture's. */
export function turnClockwiseMatrix(height: number): number[] {
  return displayMatrix(90, false, 0, height);
}

/**
 * A display matrix as phones and editors write it (ISO/IEC 14496-12 tkhd, ffmpeg's libavutil/display.h):
 * [a b u; c d v; x y w] maps a stored pixel (p, q) to (a·p + c·q + x, b·p + d·q + y) on screen. Here: turn
 * `turn`° clockwise, then mirror left-right when `mirrored` (front cameras); x, y keep the picture in view.
 */
export function displayMatrix(turn: 0 | 90 | 180 | 270, mirrored: boolean, width: number, height: number): number[] {
  const cos = Math.round(Math.cos((turn * Math.PI) / 180));
  const sin = Math.round(Math.sin((turn * Math.PI) / 180));
  const [a, b, c, d] = [mirrored ? -cos : cos, sin, mirrored ? sin : -sin, cos];
  const x = -Math.min(0, a * width) - Math.min(0, c * height);
  const y = -Math.min(0, b * width) - Math.min(0, d * height);
  return [a * 0x10000, b * 0x10000, 0, c * 0x10000, d * 0x10000, 0, x * 0x10000, y * 0x10000, 0x40000000];
}

/** The orientation matrix's clip: 1 s, 160×96 at 10 fps (with a tone or silent), turned and mirrored by its matrix. */
export async function orientedClip(turn: 0 | 90 | 180 | 270, mirrored: boolean, withAudio: boolean): Promise<{ path: string; matrix: number[] }> {
  const source = await makeFixture(`oriented-source-${withAudio ? 'sound' : 'mute'}.mp4`, [
    ...SOURCE_VIDEO(1, '160x96', 10), ...(withAudio ? [...SOURCE_TONE(1), '-c:a', 'aac', '-shortest'] : ['-an']), ...X264,
  ]);
  const matrix = displayMatrix(turn, mirrored, 160, 96);
  const path = await patchFirstTrackMatrix(source, join(FIXTURE_DIR, `oriented-${turn}-${mirrored ? 'mirrored' : 'plain'}-${withAudio ? 'sound' : 'mute'}.mp4`), matrix);
  return { path, matrix };
}

/**
 * A clip whose sound measures `lufs` (EBU R128, as the preview carries it: 48 kHz stereo), from an
 * audio filter chain: the chain is made, measured, and scaled to the level.
 */
export async function clipAtLoudness(name: string, audio: string, lufs: number, seconds: number): Promise<string> {
  const raw = await makeFixture(`${name}-raw.wav`, ['-f', 'lavfi', '-i', audio, '-t', String(seconds), '-ac', '2', '-ar', '48000', '-c:a', 'pcm_f32le']);
  const measured = (await loudness(raw)).integrated;
  return makeFixture(`${name}.mp4`, [
    ...SOURCE_VIDEO(seconds, '320x180', 10), '-i', raw,
    '-map', '0:v', '-map', '1:a', '-af', `volume=${(lufs - measured).toFixed(2)}dB`, ...X264, '-c:a', 'aac', '-b:a', '192k', '-shortest',
  ]);
}

/**
 * Speech-like sound: band-limited pink noise in syllables (3 per second) with pauses, so peaks stand
 * some 16 dB above the loudness as in real speech (a steady tone would not exercise the limiter).
 */
export const SPEECH_LIKE = (seconds: number, seed = 7) =>
  `anoisesrc=d=${seconds}:c=pink:r=48000:a=0.5:seed=${seed},lowpass=f=4000,highpass=f=120,` +
  'aeval=val(0)*pow(abs(sin(2*PI*3*t))\\,2)*gt(sin(2*PI*0.6*t)\\,-0.5):c=same';

/** Mains hum: 100 Hz and 150 Hz, as a cheap microphone picks it up in a quiet room. */
export const HUM = (seconds: number) => `aevalsrc=0.7*sin(2*PI*100*t)+0.3*sin(2*PI*150*t):s=48000:d=${seconds}`;

/**
 * Writes a display matrix into the first track header of an MP4 (ffmpeg 5.1 cannot write one).
 * tkhd version 0: after the box type come version/flags (4), four 32-bit fields (creation, modification,
 * track id, reserved), duration (4), reserved (8), layer/group/volume/reserved (8), then the matrix.
 */
export async function patchFirstTrackMatrix(source: string, target: string, matrix: number[]): Promise<string> {
  const bytes = await readFile(source);
  const tkhd = bytes.indexOf(Buffer.from('tkhd'));
  if (tkhd < 0 || bytes[tkhd + 4] !== 0) throw new Error('no version-0 tkhd box to patch');
  matrix.forEach((value, i) => bytes.writeInt32BE(value, tkhd + 4 + 4 + 16 + 4 + 8 + 8 + i * 4));
  await writeWhole(target, bytes);
  return target;
}

async function makeChapters(): Promise<string> {
  await mkdir(FIXTURE_DIR, { recursive: true });
  const path = join(FIXTURE_DIR, 'chapters.txt');
  await writeWhole(
    path,
    ';FFMETADATA1\ntitle=Minsk rally\nartist=Jane Doe\n\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=Intro\n\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=3000\ntitle=Message\n',
  );
  return path;
}

/** An HLS playlist that points at a local file, saved with a video's name. */
export async function playlistDisguisedAsMp4(): Promise<Buffer> {
  return Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n');
}

/** What ffprobe says of a file (for checking outputs). */
export async function ffprobeJson(path: string): Promise<{
  streams: Array<Record<string, unknown> & { codec_type: string; tags?: Record<string, string>; side_data_list?: unknown[] }>;
  format: Record<string, unknown> & { tags?: Record<string, string> };
  chapters: unknown[];
}> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-show_chapters', '-of', 'json', path]);
  return JSON.parse(stdout) as never;
}

/**
 * Integrated loudness (LUFS) and true peak (dBTP) measured by ffmpeg's ebur128 filter, of the whole
 * track or of a part of it (`from`–`to` seconds); −Infinity for a silent peak.
 */
export async function loudness(path: string, part?: { from: number; to: number }): Promise<{ integrated: number; truePeak: number }> {
  const trim = part ? `atrim=start=${part.from}:end=${part.to},` : '';
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostats', '-i', path, '-map', '0:a:0', '-af', `${trim}ebur128=peak=true:framelog=verbose`, '-f', 'null', '-']);
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  const value = (text: string | undefined) => (text === '-inf' ? -Infinity : Number(text));
  return {
    integrated: value(/I:\s+(-?[\d.]+|-inf) LUFS/.exec(summary)?.[1]),
    truePeak: value(/Peak:\s+(-?[\d.]+|-inf) dBFS/.exec(summary)?.[1]),
  };
}

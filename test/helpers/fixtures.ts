import { execFile } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Media fixtures are made with ffmpeg by recipe, not committed; cached per run in the temp folder. */
const FIXTURE_DIR = join(tmpdir(), 'solidarity-fixtures');

export async function makeFixture(name: string, ffmpegArgs: string[]): Promise<string> {
  await mkdir(FIXTURE_DIR, { recursive: true });
  const path = join(FIXTURE_DIR, name);
  const exists = await stat(path).then((s) => s.size > 0, () => false);
  if (!exists) {
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...ffmpegArgs, path], { timeout: 120_000 });
  }
  return path;
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
// A tone at about −30 LUFS, so loudness normalisation has work to do.
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
  /** A tiny Matroska file whose header claims ten hours. */
  tenHourClaim: async () => {
    const path = await makeFixture('ten-hours-claim-source.mkv', [...SOURCE_VIDEO(1, '320x240'), ...X264]);
    const bytes = await readFile(path);
    // Segment Info › Duration (EBML id 0x4489, 8-byte float, in milliseconds) → 36 000 000 ms.
    const at = bytes.indexOf(Buffer.from([0x44, 0x89, 0x88]));
    if (at < 0) throw new Error('no Duration element to patch');
    bytes.writeDoubleBE(36_000_000, at + 3);
    const patched = join(FIXTURE_DIR, 'ten-hours-claim.mkv');
    await writeFile(patched, bytes);
    return patched;
  },
  /** A clip long enough for an encode to be caught in the middle. */
  long: () => makeFixture('long.mp4', [...SOURCE_VIDEO(40, '1280x720'), ...SOURCE_TONE(40), ...X264, '-c:a', 'aac', '-shortest']),
};

/** The display matrix a phone held upright writes: turn 90° clockwise; `height` is the stored picture's. */
export function turnClockwiseMatrix(height: number): number[] {
  return [0, 0x10000, 0, -0x10000, 0, 0, height * 0x10000, 0, 0x40000000];
}

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
  await writeFile(target, bytes);
  return target;
}

async function makeChapters(): Promise<string> {
  await mkdir(FIXTURE_DIR, { recursive: true });
  const path = join(FIXTURE_DIR, 'chapters.txt');
  await writeFile(
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

/** Integrated loudness (LUFS) and true peak (dBTP) measured by ffmpeg's ebur128 filter. */
export async function loudness(path: string): Promise<{ integrated: number; truePeak: number }> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostats', '-i', path, '-map', '0:a:0', '-af', 'ebur128=peak=true', '-f', 'null', '-']);
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  return {
    integrated: Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1]),
    truePeak: Number(/Peak:\s+(-?[\d.]+) dBFS/.exec(summary)?.[1]),
  };
}

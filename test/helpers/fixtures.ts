import { execFile } from 'node:child_process';
import { mkdir, readFile, stat } from 'node:fs/promises';
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

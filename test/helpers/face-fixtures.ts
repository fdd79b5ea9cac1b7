import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot, type RgbFrame } from '../../worker/faces/face-detector';
import { makeFixture, patchFirstTrackMatrix, turnClockwiseMatrix } from './fixtures';

const run = promisify(execFile);

export interface FaceFixture {
  name: string;
  path: string;
  /** Frames a second as recorded (for the VFR clip: the clock its jittered frame times are drawn around). */
  fps: number;
  /** Stored sideways with a display matrix that turns it upright (a phone held upright). */
  rotated: boolean;
  /** Frames at irregular times. */
  vfr: boolean;
  audio: boolean;
}

/** A group photo from @vladmandic/face-api's sample images (1920 px wide, three to five people each). */
export function samplePhoto(n: 1 | 2 | 3 | 4 | 5 | 6): string {
  return join(packageRoot('@vladmandic/face-api'), 'demo', `sample${n}.jpg`);
}

/** Changing a recipe changes the cached files' names, so a stale fixture is never reused. */
const RECIPE = 'v3';

const still = (n: 1 | 2 | 3 | 4 | 5 | 6, fps: number, seconds: number) => ['-loop', '1', '-framerate', String(fps), '-t', String(seconds), '-i', samplePhoto(n)];
const tone = (seconds: number) => ['-f', 'lavfi', '-i', `sine=frequency=330:sample_rate=48000:duration=${seconds}`];
const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
const withTone = ['-map', '0:v', '-map', '1:a', '-c:a', 'aac', '-shortest'];

/**
 * Real faces moving as in a phone clip, made by ffmpeg from the sample photos (nothing binary is committed):
 * a camera panning and zooming over a group at 25 fps and at 60 fps, a portrait phone clip stored sideways
 * with a display matrix, a VFR clip (jittered frame times, dropped frames), and a wide shot of small faces
 * drifting across the frame without sound. Cached in the temp folder like the other fixtures.
 */
export async function faceFixtures(): Promise<FaceFixture[]> {
  const fixtures: FaceFixture[] = [];
  // 1280×720 at 25 fps, 4 s: a 16:9 crop of the photo, zooming in from 1× to 1.5× while panning right and down.
  fixtures.push({
    name: 'pan-zoom-25',
    path: await makeFixture(`faces-${RECIPE}-pan-zoom-25.mp4`, [
      ...still(6, 25, 4), ...tone(4),
      '-vf', "crop=1920:1080:0:200,zoompan=z='1+0.5*on/100':x='(iw-iw/zoom)*on/100':y='(ih-ih/zoom)*on/140':d=1:s=1280x720:fps=25",
      ...withTone, ...x264,
    ]),
    fps: 25, rotated: false, vfr: false, audio: true,
  });
  // 960×540 at 60 fps, 3 s: zooming in and out (1×–1.6×) with a sideways sway, as a hand-held phone does.
  fixtures.push({
    name: 'zoom-sway-60',
    path: await makeFixture(`faces-${RECIPE}-zoom-sway-60.mp4`, [
      ...still(5, 60, 3), ...tone(3),
      '-vf', "crop=1920:1080:0:150,zoompan=z='1.3-0.3*cos(2*PI*on/90)':x='(iw-iw/zoom)*(0.5+0.5*sin(2*PI*on/120))':y='(ih-ih/zoom)/2':d=1:s=960x540:fps=60",
      ...withTone, ...x264,
    ]),
    fps: 60, rotated: false, vfr: false, audio: true,
  });
  // A portrait phone clip: an upright 9:16 window panning across the group, 720×1280, stored turned 90°
  // anticlockwise (1280×720) with the display matrix that turns it back (ffmpeg 5.1 cannot write one: patched in).
  const sideways = await makeFixture(`faces-${RECIPE}-portrait-sideways.mp4`, [
    ...still(4, 30, 4), ...tone(4),
    '-vf', "crop=814:1448:x='(iw-ow)*t/4':y=0,scale=720:1280,transpose=2",
    ...withTone, ...x264,
  ]);
  fixtures.push({
    name: 'portrait-rotated-30',
    path: await patchFirstTrackMatrix(sideways, sideways.replace(/-sideways\.mp4$/, '-rotated.mp4'), turnClockwiseMatrix(720)),
    fps: 30, rotated: true, vfr: false, audio: true,
  });
  // VFR, 1024×576, 5 s: a 30 fps pan with frame times jittered by up to ±12 ms and three of every ten frames dropped.
  fixtures.push({
    name: 'vfr-jitter',
    path: await makeFixture(`faces-${RECIPE}-vfr-jitter.mp4`, [
      ...still(3, 30, 5), ...tone(5),
      // settb first: at the still's 1/30 time base the jitter would be rounded away.
      '-vf', "crop=1600:900:x='320*t/5':y=60,scale=1024:576,settb=1/90000,setpts='(N/30+0.012*sin(N*1.7))/TB',select='lt(mod(n\\,10)\\,7)'",
      '-fps_mode', 'passthrough', '-enc_time_base:v', '1/90000', '-video_track_timescale', '90000',
      ...withTone, ...x264,
    ]),
    fps: 30, rotated: false, vfr: true, audio: true,
  });
  // No sound, 1280×720 at 25 fps, 4 s: the group small (faces ≈ 30 px) drifting across a plain wall.
  fixtures.push({
    name: 'wide-small-mute',
    path: await makeFixture(`faces-${RECIPE}-wide-small-mute.mp4`, [
      ...still(2, 25, 4), '-f', 'lavfi', '-i', 'color=c=0x4a5058:s=1280x720:r=25:d=4',
      '-filter_complex', "[0:v]scale=480:-2[group];[1:v][group]overlay=x='40+180*t':y='180+20*sin(t)':shortest=1[v]",
      '-map', '[v]', '-an', ...x264,
    ]),
    fps: 25, rotated: false, vfr: false, audio: false,
  });
  return fixtures;
}

/**
 * One frame of a picture or a video (at `at` seconds) as RGB24, `width` wide (height to keep the shape, even),
 * turned upright by its display matrix as players turn it (ffmpeg's autorotate).
 */
export async function rgbFrame(path: string, width: number, at = 0): Promise<RgbFrame> {
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', ...(at > 0 ? ['-ss', String(at)] : []), '-i', path, '-map', '0:v:0', '-frames:v', '1', '-vf', `scale=${width}:-2`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: 1 << 26 },
  );
  const height = stdout.length / (width * 3);
  if (!Number.isInteger(height) || height < 1) throw new Error(`no frame decoded from ${path}`);
  return { data: stdout, width, height };
}

import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { makeFixture } from './fixtures';
import { blurredFillFilters } from '../../worker/steps/release.step';

/**
 * Clips for the fingerprint tests (test/integration/fingerprint.test.ts, test/bench/verify.bench.ts): four 720p
 * sources that look and sound different, made by ffmpeg's generators (cached per run like every fixture), and the
 * edits a platform or a person makes to a released clip. Three are released (A, B, C); D is never released: it is the
 * foreign footage and the foreign sound.
 */

export const SOURCE_SECONDS = 24;
const FPS = 25;

/**
 * A melody of four notes a second, on a walk set by `a` and `b`. Keep 20·a off multiples of 12: the tune would
 * then repeat 5 s later, and a 5 s cut would sound like no cut at all. Over a little noise (chromaprint needs pitch).
 */
function melody(base: number, a: number, b: number, seed: number): string {
  const note = `mod(floor(t*4)*${a}+floor(t*0.37)*${b}+floor(t*1.3)*${a + b}\\,12)`;
  return (
    `aevalsrc=0.4*sin(2*PI*${base}*pow(2\\,${note}/12)*t)+0.2*sin(2*PI*${base * 1.5}*pow(2\\,mod(floor(t*3)*${b}\\,7)/12)*t):s=44100:d=${SOURCE_SECONDS}[m];` +
    `anoisesrc=d=${SOURCE_SECONDS}:c=pink:r=44100:a=0.08:seed=${seed}[n];[m][n]amix=inputs=2:normalize=0[aout]`
  );
}

const SOURCES = {
  // A zoom into the Mandelbrot set.
  A: { picture: 'mandelbrot=s=192x108:r=25:start_scale=3:end_scale=0.01:maxiter=64,scale=1280:720:flags=bicubic', sound: melody(220, 5, 3, 1) },
  // Conway's life in colour, big cells.
  B: { picture: 'life=s=160x90:r=25:mold=10:ratio=0.2:seed=5:death_color=#C83232:life_color=#10A0F0,scale=1280:720:flags=neighbor', sound: melody(330, 7, 2, 2) },
  // An elementary automaton (rule 30) scrolling, big cells.
  C: { picture: 'cellauto=s=64x36:r=25:rule=30:seed=3,scale=1280:720:flags=neighbor', sound: melody(262, 11, 5, 3) },
  // Drifting gradients under a grid: never released.
  D: { picture: 'gradients=s=320x180:r=25:speed=0.03:seed=9,scale=1280:720,drawgrid=w=160:h=90:t=6:c=white@0.6', sound: melody(196, 11, 4, 4) },
} as const;

export type SourceName = keyof typeof SOURCES;

const VERSION = 'fp2';
const H264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '20', '-pix_fmt', 'yuv420p', '-r', String(FPS)];
const AAC = ['-c:a', 'aac', '-b:a', '128k'];

/** A 24 s 720p source clip with its melody. */
export function sourceClip(name: SourceName): Promise<string> {
  const { picture, sound } = SOURCES[name];
  // Named by its recipe: a changed recipe is made again, the others are reused.
  const recipe = createHash('sha256').update(picture + sound).digest('hex').slice(0, 8);
  return makeFixture(`${VERSION}-source-${name}-${recipe}.mp4`, [
    '-f', 'lavfi', '-i', picture,
    '-filter_complex', sound,
    '-map', '0:v', '-map', '[aout]', '-t', String(SOURCE_SECONDS), ...H264, ...AAC, '-shortest',
  ]);
}

/** What an edit did, in the release's time and the copy's (seconds), for the test to check. */
export interface Edit {
  name: string;
  of: SourceName;
  path: string;
  copySeconds: number;
  /** Release time still in the copy's picture. */
  picture: { kept: Array<[number, number]>; cut: Array<[number, number]>; foreign: Array<[number, number]> };
  /** Null when the copy's sound is not the release's at all. */
  sound: { kept: Array<[number, number]> } | null;
  /** Release time where the picture is kept but the sound is not. */
  revoiced: Array<[number, number]>;
}

const S = SOURCE_SECONDS;

/** The edits of the brief (issue 17): each made by ffmpeg from a source and, for splicing and re-voicing, D. */
export const EDIT_NAMES = [
  'the vertical release render, re-encoded','360p at a low bitrate', '9:16 re-crop', 'a logo over the picture', '5 s cut from the middle', 'spliced between other footage', 'sound replaced by another clip\'s'] as const;

export async function editsOf(name: SourceName, which: readonly string[] = EDIT_NAMES): Promise<Edit[]> {
  const src = await sourceClip(name);
  const d = await sourceClip('D');
  const edits: Edit[] = [];
  const of = basename(src, '.mp4');
  const whole = { kept: [[0, S]] as Array<[number, number]>, cut: [], foreign: [] };
  if (which.includes('360p at a low bitrate')) edits.push({
    name: '360p at a low bitrate',
    of: name,
    path: await makeFixture(`${of}-360p.mp4`, ['-i', src, '-vf', 'scale=640:360', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '150k', '-c:a', 'aac', '-b:a', '48k', '-ac', '1']),
    copySeconds: S,
    picture: whole,
    sound: { kept: [[0, S]] },
    revoiced: [],
  });
  if (which.includes('9:16 re-crop')) edits.push({
    name: '9:16 re-crop',
    of: name,
    path: await makeFixture(`${of}-crop916.mp4`, ['-i', src, '-vf', 'crop=ih*9/16:ih:(iw-ow)/2+12:0,scale=540:960', ...H264, '-crf', '26', ...AAC]),
    copySeconds: S,
    picture: whole,
    sound: { kept: [[0, S]] },
    revoiced: [],
  });
  if (which.includes('a logo over the picture')) edits.push({
    name: 'a logo over the picture',
    of: name,
    path: await makeFixture(`${of}-logo.mp4`, ['-i', src, '-vf', 'drawbox=x=40:y=40:w=260:h=120:color=white@0.9:t=fill,drawbox=x=60:y=60:w=80:h=80:color=red:t=fill', ...H264, '-crf', '26', ...AAC]),
    copySeconds: S,
    picture: whole,
    sound: { kept: [[0, S]] },
    revoiced: [],
  });
  if (which.includes('5 s cut from the middle')) edits.push({
    name: '5 s cut from the middle',
    of: name,
    path: await makeFixture(`${of}-cut.mp4`, [
      '-i', src,
      '-filter_complex',
      '[0:v]trim=0:10,setpts=PTS-STARTPTS[v1];[0:v]trim=15:24,setpts=PTS-STARTPTS[v2];[0:a]atrim=0:10,asetpts=PTS-STARTPTS[a1];[0:a]atrim=15:24,asetpts=PTS-STARTPTS[a2];[v1][a1][v2][a2]concat=n=2:v=1:a=1[v][a]',
      '-map', '[v]', '-map', '[a]', ...H264, '-crf', '24', ...AAC,
    ]),
    copySeconds: S - 5,
    picture: { kept: [[0, 10], [15, S]], cut: [[10, 15]], foreign: [] },
    sound: { kept: [[0, 10], [15, S]] },
    revoiced: [],
  });
  if (which.includes('spliced between other footage')) edits.push({
    name: 'spliced between other footage',
    of: name,
    path: await makeFixture(`${of}-spliced.mp4`, [
      '-i', d, '-i', src,
      '-filter_complex',
      '[0:v]trim=0:6,setpts=PTS-STARTPTS[v1];[0:a]atrim=0:6,asetpts=PTS-STARTPTS[a1];[0:v]trim=6:14,setpts=PTS-STARTPTS[v3];[0:a]atrim=6:14,asetpts=PTS-STARTPTS[a3];[v1][a1][1:v][1:a][v3][a3]concat=n=3:v=1:a=1[v][a]',
      '-map', '[v]', '-map', '[a]', ...H264, '-crf', '24', ...AAC,
    ]),
    copySeconds: S + 14,
    picture: { kept: [[0, S]], cut: [], foreign: [[0, 6], [6 + S, S + 14]] },
    sound: { kept: [[0, S]] },
    revoiced: [],
  });
  if (which.includes('sound replaced by another clip\'s')) edits.push({
    name: 'sound replaced by another clip\'s',
    of: name,
    path: await makeFixture(`${of}-revoiced.mp4`, ['-i', src, '-i', d, '-map', '0:v', '-map', '1:a', ...H264, '-crf', '24', ...AAC, '-shortest']),
    copySeconds: S,
    picture: whole,
    sound: null,
    revoiced: [[0, S]],
  });
  if (which.includes('the vertical release render, re-encoded')) edits.push({
    name: 'the vertical release render, re-encoded',
    of: name,
    // The picture over a blurred fill of itself in a 9:16 frame, as release.step.ts makes it; only the source render is indexed.
    path: await makeFixture(`${of}-vertical.mp4`, ['-i', src, '-filter_complex', ['[0:v]null[in]', ...blurredFillFilters('in', 'v', { width: 720, height: 1280 })].join(';'), '-map', '[v]', '-map', '0:a', ...H264, '-crf', '26', ...AAC]),
    copySeconds: S,
    picture: whole,
    sound: { kept: [[0, S]] },
    revoiced: [],
  });
  return edits;
}

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * npm run bench:encoder — how the preview's x264 settings were chosen: for each preset at CRF 23, the
 * CPU time, the file size and the SSIM against the same picture unencoded, on real clips from
 * ../shared/media where present (a generated 1080p clip otherwise). Ratios are against "medium".
 */
const MEDIA = join(__dirname, '..', '..', '..', '..', 'shared', 'media');
const CLIPS = ['camera/gopro_hero5_karma_gpmf_telemetry.mp4', 'screen_recording/macos_kap_1740x892_h264_aac.mp4', 'iphone/coremedia_h264_gps_vfr_geese.mp4'];
const PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium'];

async function encode(input: string, preset: string, output: string): Promise<number> {
  const { stderr } = await run('ffmpeg', [
    // -benchmark prints its line at log level info.
    '-hide_banner', '-loglevel', 'info', '-nostats', '-benchmark', '-y', '-i', input, '-an',
    '-vf', 'fps=30,scale=1280:720:force_original_aspect_ratio=decrease:force_divisible_by=2,format=yuv420p',
    '-c:v', 'libx264', '-preset', preset, '-crf', '23', '-profile:v', 'high', output,
  ]);
  const match = /utime=([\d.]+)s stime=([\d.]+)s/.exec(stderr);
  return match ? Number(match[1]) + Number(match[2]) : NaN;
}

async function ssim(encoded: string, input: string): Promise<number> {
  const { stderr } = await run('ffmpeg', [
    '-hide_banner', '-i', encoded, '-i', input, '-lavfi',
    '[1:v]fps=30,scale=1280:720:force_original_aspect_ratio=decrease:force_divisible_by=2,format=yuv420p[ref];[0:v][ref]ssim', '-f', 'null', '-',
  ]);
  return Number(/All:([\d.]+)/.exec(stderr)?.[1]);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'solidarity-encoder-bench-'));
  try {
    let inputs = CLIPS.map((clip) => join(MEDIA, clip)).filter((path) => existsSync(path));
    if (inputs.length === 0) {
      const generated = join(dir, 'generated.mp4');
      await run('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=duration=10:size=1920x1080:rate=30', '-c:v', 'libx264', '-crf', '15', generated]);
      inputs = [generated];
    }
    const totals = new Map<string, { cpu: number; bytes: number; ssim: number }>();
    for (const input of inputs) {
      for (const preset of PRESETS) {
        const output = join(dir, `${preset}.mp4`);
        const cpu = await encode(input, preset, output);
        const bytes = (await stat(output)).size;
        const quality = await ssim(output, input);
        const t = totals.get(preset) ?? { cpu: 0, bytes: 0, ssim: 0 };
        totals.set(preset, { cpu: t.cpu + cpu, bytes: t.bytes + bytes, ssim: t.ssim + quality / inputs.length });
      }
    }
    const medium = totals.get('medium')!;
    process.stdout.write(`${inputs.length} clip(s); CRF 23; ratios against "medium"\n`);
    process.stdout.write('preset       CPU s   CPU ratio   size ratio   mean SSIM\n');
    for (const [preset, t] of totals) {
      process.stdout.write(
        `${preset.padEnd(10)} ${t.cpu.toFixed(1).padStart(7)}   ${(t.cpu / medium.cpu).toFixed(2).padStart(9)}   ${(t.bytes / medium.bytes).toFixed(2).padStart(10)}   ${t.ssim.toFixed(4).padStart(9)}\n`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:encoder: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

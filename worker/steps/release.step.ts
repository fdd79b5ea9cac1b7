import { join } from 'node:path';
import { runFfmpeg, type FfmpegCommand, type RunLimits } from '../ffmpeg/ffmpeg';
import type { CaptionSafeArea } from '../../shared/subtitles/subtitles';
import { inputHardeningArgs } from './probe.step';
import { aacArgs, burnInCaptionsFilter, h264Args, posterArgs, strippedMp4Args, type EncoderSettings } from './transcode.step';

/**
 * The release renders, all from ONE decode of the clean master (never the original): for each shape —
 * the source shape as shot, square 1:1 and vertical 9:16 — a render without captions, one with burned-in
 * captions per caption language, and a poster. The master is already upright, constant-rate, SDR BT.709,
 * loudness-normalised and free of metadata; its sound is copied, so the loudness is the preview's.
 */

export const RELEASE_SHAPES = ['source', 'square', 'vertical'] as const;
export type ReleaseShape = (typeof RELEASE_SHAPES)[number];

/**
 * CRF 20 rather than the preview's 23: platforms encode every upload again, and the headroom keeps their
 * second generation clean; veryfast for the reasons measured for the preview (transcode.step.ts).
 */
export const RELEASE_ENCODER: EncoderSettings = { preset: 'veryfast', crf: 20 };

/**
 * Where captions may go in each shape. 16:9 and 1:1 feeds cover little; the 9:16 players (Reels, Shorts,
 * TikTok) lay their caption, buttons and progress bar over the bottom fifth and the right-hand side.
 */
export const CAPTION_SAFE_AREAS: Record<ReleaseShape, CaptionSafeArea> = {
  source: { bottom: 0.07, left: 0.06, right: 0.06 },
  square: { bottom: 0.1, left: 0.08, right: 0.08 },
  vertical: { bottom: 0.22, left: 0.08, right: 0.18 },
};

/**
 * Where a campaign's watermark goes in each shape: the top-left corner, inside the side margins of the
 * captions' safe area and below the top bar the 9:16 players lay over the picture; the logo fits a square
 * of `size` × the frame's short side.
 */
export const WATERMARK_AREAS: Record<ReleaseShape, { top: number; left: number; size: number }> = {
  source: { top: 0.05, left: 0.06, size: 0.14 },
  square: { top: 0.06, left: 0.08, size: 0.14 },
  vertical: { top: 0.1, left: 0.08, size: 0.14 },
};

export interface Size {
  width: number;
  height: number;
}

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/** Each shape's frame: the master's own; a square of its long side (≤ 1080); a 9:16 frame of its long side (≤ 1920 high). */
export function shapeSize(shape: ReleaseShape, master: Size): Size {
  const long = Math.max(master.width, master.height);
  switch (shape) {
    case 'source':
      return { width: master.width, height: master.height };
    case 'square': {
      const side = even(Math.min(1080, long));
      return { width: side, height: side };
    }
    case 'vertical': {
      const height = even(Math.min(1920, long));
      return { width: even((height * 9) / 16), height };
    }
  }
}

/**
 * The picture fitted into the frame over a blurred fill of itself (no black bars): the fill is scaled to
 * cover the frame at a quarter of its size (cheaper to blur), blurred, scaled up; the picture is fitted
 * inside and overlaid in the middle. `in` and `out` are graph labels without brackets.
 */
export function blurredFillFilters(input: string, output: string, frame: Size): string[] {
  const small = { width: even(frame.width / 4), height: even(frame.height / 4) };
  return [
    `[${input}]split=2[${input}bg][${input}fg]`,
    `[${input}bg]scale=${small.width}:${small.height}:force_original_aspect_ratio=increase,crop=${small.width}:${small.height},boxblur=10:2,scale=${frame.width}:${frame.height}[${input}fill]`,
    `[${input}fg]scale=${frame.width}:${frame.height}:force_original_aspect_ratio=decrease:force_divisible_by=2[${input}fit]`,
    `[${input}fill][${input}fit]overlay=(W-w)/2:(H-h)/2,setsar=1,format=yuv420p[${output}]`,
  ];
}

export interface ReleasePlan {
  masterPath: string;
  outDir: string;
  master: Size;
  /** The master's (constant) frame rate. */
  fps: number;
  /** Seconds in where the posters are taken (the first keyframe from there). */
  posterTime: number;
  /** Per caption language, the ASS file this code wrote for each shape's frame and safe area. */
  captions: Array<{ language: string; assPaths: Record<ReleaseShape, string> }>;
  /** The campaign's watermark, a PNG this job downloaded (campaign.release), or none. */
  watermarkPath?: string | null;
  /** The campaign's end card, a PNG shown for `seconds` after the clip, with silence, or none. */
  endCard?: { path: string; seconds: number } | null;
  encoder?: EncoderSettings;
}

/** A PNG the code downloaded itself: read by the image demuxer only, as one file (no pattern), local only. */
export function imageInputArgs(): string[] {
  return ['-format_whitelist', 'image2', '-protocol_whitelist', 'file', '-f', 'image2', '-pattern_type', 'none'];
}

/** The file (and output name) of each render: `square`, `square-be`, `poster-square`… */
export function renderName(shape: ReleaseShape, language: string | null): string {
  return language ? `${shape}-${language}` : shape;
}

export function posterName(shape: ReleaseShape): string {
  return `poster-${shape}`;
}

/** Every video render and poster this plan makes, by output name, with its file. */
export function releaseFiles(plan: Pick<ReleasePlan, 'outDir' | 'captions'>): Record<string, string> {
  const files: Record<string, string> = {};
  for (const shape of RELEASE_SHAPES) {
    for (const language of [null, ...plan.captions.map((c) => c.language)]) files[renderName(shape, language)] = join(plan.outDir, `${renderName(shape, language)}.mp4`);
    files[posterName(shape)] = join(plan.outDir, `${posterName(shape)}.jpg`);
  }
  return files;
}

export function buildReleaseArgs(plan: ReleasePlan): FfmpegCommand {
  const encoder = plan.encoder ?? RELEASE_ENCODER;
  const files = releaseFiles(plan);
  const copies = plan.captions.length + 2; // plain, one per language, poster
  const inputs: FfmpegCommand['inputs'] = [{ args: inputHardeningArgs(), path: plan.masterPath }];
  const graph = [`[0:v:0]split=${RELEASE_SHAPES.length}${RELEASE_SHAPES.map((s) => `[${s}in]`).join('')}`];
  if (plan.watermarkPath) {
    graph.push(`[${inputs.length}:v]split=${RELEASE_SHAPES.length}${RELEASE_SHAPES.map((s) => `[wm${s}]`).join('')}`);
    inputs.push({ args: imageInputArgs(), path: plan.watermarkPath });
  }
  const endCard = plan.endCard ?? null;
  if (endCard) {
    graph.push(`[${inputs.length}:v]split=${RELEASE_SHAPES.length}${RELEASE_SHAPES.map((s) => `[ec${s}]`).join('')}`);
    // The still, decoded once (fitted to each shape's frame, then repeated by the graph: see endCardFilter).
    inputs.push({ args: [...imageInputArgs(), '-framerate', String(plan.fps)], path: endCard.path });
    // The sound goes on in silence under the card; then it is encoded again (it is copied otherwise).
    const count = RELEASE_SHAPES.length * (plan.captions.length + 1);
    graph.push(`[0:a:0]apad=pad_dur=${endCard.seconds},asplit=${count}${Array.from({ length: count }, (_, i) => `[a${i}]`).join('')}`);
  }
  let audio = 0;
  const outputs: FfmpegCommand['outputs'] = [];
  const video = (label: string) => [
    '-map', label,
    ...(endCard ? ['-map', `[a${audio++}]`] : ['-map', '0:a:0']),
    ...h264Args(encoder, plan.fps),
    // The master's sound is already AAC 48 kHz stereo at −14 LUFS: copied, not encoded again.
    ...(endCard ? aacArgs() : ['-c:a', 'copy']),
    ...strippedMp4Args(),
  ];
  for (const shape of RELEASE_SHAPES) {
    const frame = shapeSize(shape, plan.master);
    const labels = [`${shape}0`, ...plan.captions.map((_, i) => `${shape}c${i}`), `${shape}p`];
    const fanOut = `split=${copies}${labels.map((l) => `[${l}]`).join('')}`;
    const branded = plan.watermarkPath ? watermarkFilters(shape, frame) : null;
    if (shape === 'source') graph.push(branded ? `[${shape}in]setsar=1[${shape}frame]` : `[${shape}in]setsar=1,${fanOut}`);
    else graph.push(...blurredFillFilters(`${shape}in`, `${shape}frame`, frame), ...(branded ? [] : [`[${shape}frame]${fanOut}`]));
    if (branded) graph.push(...branded, `[${shape}framewm]${fanOut}`);
    // With an end card: each video render is followed by the card, fitted to the frame.
    const ended = (label: string, n: number) => {
      if (!endCard) return `[${label}]`;
      graph.push(`[${label}][ec${shape}${n}]concat=n=2:v=1:a=0[${label}end]`);
      return `[${label}end]`;
    };
    if (endCard) {
      const cards = plan.captions.length + 1;
      graph.push(`[ec${shape}]${endCardFilter(frame, plan.fps, endCard.seconds)},split=${cards}${Array.from({ length: cards }, (_, i) => `[ec${shape}${i}]`).join('')}`);
    }
    outputs.push({ args: video(ended(`${shape}0`, 0)), path: files[renderName(shape, null)]! });
    plan.captions.forEach((caption, i) => {
      graph.push(`[${shape}c${i}]${burnInCaptionsFilter(caption.assPaths[shape])}[${shape}cap${i}]`);
      outputs.push({ args: video(ended(`${shape}cap${i}`, i + 1)), path: files[renderName(shape, caption.language)]! });
    });
    graph.push(`[${shape}p]select=isnan(prev_selected_t)*gte(t\\,${plan.posterTime})*eq(pict_type\\,I)[poster${shape}]`);
    outputs.push({ args: posterArgs(`[poster${shape}]`), path: files[posterName(shape)]! });
  }
  return {
    globalArgs: ['-hide_banner', '-nostdin', '-loglevel', 'error', '-stats', '-filter_complex', graph.join(';')],
    inputs,
    outputs,
  };
}

/**
 * The end card fitted into a shape's frame over black, then repeated for its seconds at the renders' rate.
 * Fitted once and repeated after (`loop`), not read again for every frame (`-loop 1`): a 4096² card was
 * decoded and scaled 30 times a second, 43 s of CPU for 10 s of card in one shape; now 0.3 s.
 */
export function endCardFilter(frame: Size, fps: number, seconds: number): string {
  const frames = Math.max(1, Math.round(fps * seconds));
  return [
    `scale=${frame.width}:${frame.height}:force_original_aspect_ratio=decrease`,
    `pad=${frame.width}:${frame.height}:(ow-iw)/2:(oh-ih)/2:color=black`,
    'setsar=1',
    'format=yuv420p',
    `loop=loop=${frames - 1}:size=1`,
    `setpts=N/(${fps}*TB)`,
  ].join(',');
}

/** The watermark fitted into its square and laid over the shape's frame (`[<shape>frame]` → `[<shape>framewm]`). */
export function watermarkFilters(shape: ReleaseShape, frame: Size): string[] {
  const area = WATERMARK_AREAS[shape];
  const box = even(Math.min(frame.width, frame.height) * area.size);
  const x = Math.round(frame.width * area.left);
  const y = Math.round(frame.height * area.top);
  return [
    `[wm${shape}]scale=${box}:${box}:force_original_aspect_ratio=decrease[wm${shape}fit]`,
    `[${shape}frame][wm${shape}fit]overlay=${x}:${y},format=yuv420p[${shape}framewm]`,
  ];
}

export async function renderRelease(
  plan: ReleasePlan,
  limits: RunLimits,
  run: { durationSeconds?: number | null; onProgress?: (fraction: number) => void; signal?: AbortSignal } = {},
): Promise<Record<string, string>> {
  await runFfmpeg(buildReleaseArgs(plan), limits, run);
  return releaseFiles(plan);
}

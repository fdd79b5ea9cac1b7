import { join } from 'node:path';
import { escapeFilterPath } from '../ffmpeg/filter-escape';
import { runFfmpeg, type FfmpegCommand, type RunLimits } from '../ffmpeg/ffmpeg';
import type { MediaInfo, VideoInfo } from '../ffmpeg/media-info';
import { AUDIO_FORMAT, loudnessFilters } from './loudness.step';
import { inputHardeningArgs } from './probe.step';

/**
 * The master, the review preview, the captioned preview and the poster, from ONE decode of the original:
 * H.264 High + AAC 48 kHz stereo in MP4 with faststart, turned upright, constant frame rate, SDR BT.709,
 * loudness-normalised, exactly one video and one audio stream, and no metadata. The master keeps the
 * source's size up to 1080p at high quality: every release render is made from it, never from the
 * original (which is deleted after the moderation decision, shared/submissions/retention.ts).
 */

export interface EncoderSettings {
  preset: string;
  crf: number;
}

/**
 * Chosen by measurement (npm run bench:encoder, CRF 23, three corpus clips: GoPro, a 1740×892 screen
 * recording, an iPhone clip; against "medium"): veryfast took 0.46× the CPU, made files 0.85× the size,
 * at SSIM 0.9865 against 0.9889. superfast was faster (0.33×) but 1.31× the size; faster and slower
 * presets cost 0.7–1× the CPU for under 0.003 SSIM. A preview is watched once by a moderator.
 */
export const PREVIEW_ENCODER: EncoderSettings = { preset: 'veryfast', crf: 23 };

export const PREVIEW_MAX = { long: 1280, short: 720, fps: 30 };

/**
 * CRF 18 is visually lossless for H.264, so the renders made from the master lose nothing visible to a
 * second generation; "veryfast" because the reviewable preview waits for the master (the same ffmpeg run):
 * bench:release measured 146 s to the preview of a 60 s 1080p clip with "fast" (0.42 of the time to the
 * full release set), and bench:encoder measured veryfast at 0.46× medium's CPU for < 0.003 SSIM, the
 * difference mostly being file size, which matters little for an object kept until release.
 */
export const MASTER_ENCODER: EncoderSettings = { preset: 'veryfast', crf: 18 };

export const MASTER_MAX = { long: 1920, short: 1080 };

export interface TranscodePlan {
  inputPath: string;
  outDir: string;
  /** An ASS file we wrote (never the contributor's), to burn into the captioned preview. */
  captionsAssPath: string | null;
  maxDurationSeconds: number;
  encoder?: EncoderSettings;
  /**
   * A protected clip (shared/protection/protection.ts): only the clean master is made here, quickly (it is an
   * intermediate that the protected master, preview and poster are drawn from, and is deleted at approval);
   * nothing unprotected that anyone watches is made.
   */
  masterOnly?: boolean;
}

/**
 * The unprotected master of a protected clip: near-lossless (CRF 16) and ultrafast, since it is read twice by the
 * worker (face detection, masking) and never released; the protected master is encoded at MASTER_ENCODER.
 */
export const INTERMEDIATE_MASTER_ENCODER: EncoderSettings = { preset: 'ultrafast', crf: 16 };

export const OUTPUT_FILES = { master: 'master.mp4', preview: 'preview.mp4', captionedPreview: 'preview-captioned.mp4', poster: 'poster.jpg' } as const;

/** Display size scaled to fit `max` (either orientation), never up, even numbers for 4:2:0. */
export function fitSize(video: Pick<VideoInfo, 'displayWidth' | 'displayHeight'>, max: { long: number; short: number }): { width: number; height: number } {
  const { displayWidth: w, displayHeight: h } = video;
  const scale = Math.min(1, max.long / Math.max(w, h), max.short / Math.min(w, h));
  const even = (n: number) => Math.max(2, Math.round((n * scale) / 2) * 2);
  return { width: even(w), height: even(h) };
}

/** The preview: the display size fitted to 1280×720. */
export function previewSize(video: Pick<VideoInfo, 'displayWidth' | 'displayHeight'>): { width: number; height: number } {
  return fitSize(video, PREVIEW_MAX);
}

/** The master: the display size fitted to 1920×1080 (the source's own size when smaller). */
export function masterSize(video: Pick<VideoInfo, 'displayWidth' | 'displayHeight'>): { width: number; height: number } {
  return fitSize(video, MASTER_MAX);
}

/** A constant output rate near the source's: 30 at most, 10 at least. */
export function previewFps(video: Pick<VideoInfo, 'averageFps'>): number {
  return Math.min(PREVIEW_MAX.fps, Math.max(10, Math.round(video.averageFps ?? PREVIEW_MAX.fps)));
}

/**
 * Turns the picture upright from the display matrix, as ffmpeg 7 does (ffmpeg 5.1 ignores mirroring,
 * so autorotation is off and this is applied instead): 90° and 270° may carry a flip, 180° is two flips.
 */
export function orientationFilters(video: Pick<VideoInfo, 'rotation' | 'displayMatrix'>): string[] {
  const m = video.displayMatrix;
  switch (video.rotation) {
    case 90:
      return [m && (m[3] ?? 0) > 0 ? 'transpose=cclock_flip' : 'transpose=clock'];
    case 180:
      return [...(!m || (m[0] ?? 0) < 0 ? ['hflip'] : []), ...(!m || (m[4] ?? 0) < 0 ? ['vflip'] : [])];
    case 270:
      return [m && (m[3] ?? 0) < 0 ? 'transpose=clock_flip' : 'transpose=cclock'];
    default:
      return m && (m[4] ?? 0) < 0 ? ['vflip'] : [];
  }
}

/** HLG or PQ (also Dolby Vision with an HDR10/HLG base layer) to SDR BT.709, tone-mapped with Hable. */
export function toneMapFilters(video: Pick<VideoInfo, 'hdr'>): string[] {
  if (!video.hdr) return [];
  return ['zscale=t=linear:npl=100', 'format=gbrpf32le', 'zscale=p=bt709', 'tonemap=tonemap=hable:desat=0', 'zscale=t=bt709:m=bt709:r=tv'];
}

/**
 * The burn-in: captions from an ASS file the worker wrote (subtitles.step.ts), rendered by libass.
 * The release renders (1:1, 9:16, per language) reuse this with their own sizes.
 */
export function burnInCaptionsFilter(assPath: string): string {
  return `ass=filename=${escapeFilterPath(assPath)}`;
}

/** Where the poster comes from: the first keyframe at or after this time (1 s in, or the start of a short clip). */
export function posterTime(info: Pick<MediaInfo, 'durationSeconds'>): number {
  const duration = info.durationSeconds ?? 0;
  return duration >= 3 ? 1 : 0;
}

export function buildTranscodeArgs(info: MediaInfo, plan: TranscodePlan): FfmpegCommand {
  const video = info.video;
  if (!video) throw new Error('no video stream to transcode');
  const encoder = plan.encoder ?? PREVIEW_ENCODER;
  const { width, height } = previewSize(video);
  const master = masterSize(video);
  const fps = previewFps(video);
  if (plan.masterOnly) return buildMasterOnlyArgs(info, plan);
  const captioned = plan.captionsAssPath !== null;
  const copies = captioned ? 3 : 2;

  // One decode, turned upright and at a constant rate once; split before any scaling so the master keeps
  // its (up to 1080p) size while the preview, captioned preview and poster share the 720p picture.
  const uprightChain = [
    ...orientationFilters(video),
    ...toneMapFilters(video),
    // Constant frame rate: phones record variable frame rates that some editors and platforms mishandle.
    `fps=${fps}`,
    'split=2',
  ].join(',');
  const previewChain = [`scale=${width}:${height}:out_range=tv`, 'setsar=1', 'format=yuv420p', `split=${copies}`].join(',');
  const videoLabels = captioned ? '[vp][vc][vposter]' : '[vp][vposter]';
  const graph = [
    `[0:${video.index}]${uprightChain}[vmsrc][vpsrc]`,
    `[vmsrc]scale=${master.width}:${master.height}:out_range=tv,setsar=1,format=yuv420p[vm]`,
    `[vpsrc]${previewChain}${videoLabels}`,
    `[vposter]select=isnan(prev_selected_t)*gte(t\\,${posterTime(info)})*eq(pict_type\\,I)[poster]`,
  ];
  if (captioned && plan.captionsAssPath) graph.push(`[vc]${burnInCaptionsFilter(plan.captionsAssPath)}[vcap]`);

  const audioLabels = captioned ? ['[am]', '[ap]', '[ac]'] : ['[am]', '[ap]'];
  const audioSplit = `,asplit=${audioLabels.length}`;
  if (info.audio) {
    graph.push(`[0:${info.audio.index}]${loudnessFilters(info.audio.loudness).join(',')}${audioSplit}${audioLabels.join('')}`);
  } else {
    // A clip without sound still gets a (silent) audio track: platforms and players expect one.
    const length = info.durationSeconds ? `atrim=duration=${info.durationSeconds},` : '';
    graph.push(`[1:a]${length}${AUDIO_FORMAT}${audioSplit}${audioLabels.join('')}`);
  }

  const mp4 = (videoLabel: string, audioLabel: string, settings: EncoderSettings) => [
    '-map', videoLabel,
    '-map', audioLabel,
    ...h264Args(settings, fps),
    ...aacArgs(),
    ...strippedMp4Args(),
    ...(info.audio ? [] : ['-shortest']),
    // Never encode more than the accepted length, whatever the file claims.
    '-t', String(plan.maxDurationSeconds),
  ];

  const outputs = [
    { args: mp4('[vm]', '[am]', MASTER_ENCODER), path: join(plan.outDir, OUTPUT_FILES.master) },
    { args: mp4('[vp]', '[ap]', encoder), path: join(plan.outDir, OUTPUT_FILES.preview) },
  ];
  if (captioned) outputs.push({ args: mp4('[vcap]', '[ac]', encoder), path: join(plan.outDir, OUTPUT_FILES.captionedPreview) });
  outputs.push({ args: posterArgs(), path: join(plan.outDir, OUTPUT_FILES.poster) });

  return {
    // -stats: the progress line (time=…) is printed even at log level "error"; the runner reads it.
    globalArgs: ['-hide_banner', '-nostdin', '-loglevel', 'error', '-stats', '-filter_complex', graph.join(';')],
    inputs: [
      { args: [...inputHardeningArgs(), '-noautorotate'], path: plan.inputPath },
      // The silence is an input, not a source inside the graph: ffmpeg 5.1 ties the outputs of a graph with one
      // input to that input's stream and, with -noautorotate, copies its display matrix onto the turned picture.
      ...(info.audio ? [] : [{ args: ['-f', 'lavfi'], path: 'anullsrc=channel_layout=stereo:sample_rate=48000' }]),
    ],
    outputs,
  };
}

/** The master alone (a protected clip's clean intermediate): the same picture and sound as the master above. */
function buildMasterOnlyArgs(info: MediaInfo, plan: TranscodePlan): FfmpegCommand {
  const video = info.video!;
  const master = masterSize(video);
  const fps = previewFps(video);
  const graph = [`[0:${video.index}]${[...orientationFilters(video), ...toneMapFilters(video), `fps=${fps}`, `scale=${master.width}:${master.height}:out_range=tv`, 'setsar=1', 'format=yuv420p'].join(',')}[vm]`];
  if (info.audio) graph.push(`[0:${info.audio.index}]${loudnessFilters(info.audio.loudness).join(',')}[am]`);
  else graph.push(`[1:a]${info.durationSeconds ? `atrim=duration=${info.durationSeconds},` : ''}${AUDIO_FORMAT}[am]`);
  return {
    globalArgs: ['-hide_banner', '-nostdin', '-loglevel', 'error', '-stats', '-filter_complex', graph.join(';')],
    inputs: [
      { args: [...inputHardeningArgs(), '-noautorotate'], path: plan.inputPath },
      ...(info.audio ? [] : [{ args: ['-f', 'lavfi'], path: 'anullsrc=channel_layout=stereo:sample_rate=48000' }]),
    ],
    outputs: [
      {
        args: ['-map', '[vm]', '-map', '[am]', ...h264Args(plan.encoder ?? INTERMEDIATE_MASTER_ENCODER, fps), ...aacArgs(), ...strippedMp4Args(), ...(info.audio ? [] : ['-shortest']), '-t', String(plan.maxDurationSeconds)],
        path: join(plan.outDir, OUTPUT_FILES.master),
      },
    ],
  };
}

/** H.264 High, 8-bit 4:2:0, tagged BT.709, a keyframe every 2 s for quick seeking in the review player. */
export function h264Args(encoder: EncoderSettings, fps: number): string[] {
  return [
    '-c:v', 'libx264',
    '-preset', encoder.preset,
    '-crf', String(encoder.crf),
    '-profile:v', 'high',
    '-pix_fmt', 'yuv420p',
    '-g', String(fps * 2),
    '-color_primaries', 'bt709',
    '-color_trc', 'bt709',
    '-colorspace', 'bt709',
  ];
}

/** AAC-LC 48 kHz stereo: what every platform and phone plays. */
export function aacArgs(): string[] {
  return ['-c:a', 'aac', '-b:a', '128k', '-ar', '48000', '-ac', '2'];
}

/**
 * No metadata survives: no global or per-stream tags (GPS, make, model, software), no chapters, no
 * data or attachment tracks (only the two mapped streams are written), creation times left at zero,
 * and bitexact so no encoder version tag is written. faststart puts the index first for streaming.
 */
export function strippedMp4Args(): string[] {
  return [
    '-map_metadata', '-1',
    '-map_chapters', '-1',
    '-fflags', '+bitexact',
    '-flags:v', '+bitexact',
    '-flags:a', '+bitexact',
    '-movflags', '+faststart',
  ];
}

/** One JPEG, no comment block (bitexact drops the "Lavc" tag). */
export function posterArgs(label = '[poster]'): string[] {
  return ['-map', label, '-frames:v', '1', '-update', '1', '-q:v', '3', '-fflags', '+bitexact', '-flags:v', '+bitexact'];
}

export async function transcode(
  info: MediaInfo,
  plan: TranscodePlan,
  limits: RunLimits,
  run: { onProgress?: (fraction: number) => void; signal?: AbortSignal } = {},
): Promise<void> {
  await runFfmpeg(buildTranscodeArgs(info, plan), limits, { durationSeconds: info.durationSeconds, ...run });
}

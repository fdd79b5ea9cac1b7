import { runFfmpeg, type FfmpegCommand, type RunLimits } from '../ffmpeg/ffmpeg';
import { inputHardeningArgs } from './probe.step';
import { burnInCaptionsFilter, h264Args, PREVIEW_ENCODER, strippedMp4Args, type EncoderSettings } from './transcode.step';

/**
 * The review preview again, with a moderator's caption version burned in: from the clip's preview (the
 * same frame, already upright, constant-rate and loudness-normalised; the master may not exist for older
 * clips), captions from an ASS file this code wrote, the sound copied. A preview for a moderator's eyes,
 * so a second generation at the preview's quality is enough.
 */
export interface CaptionPreviewPlan {
  previewPath: string;
  assPath: string;
  outPath: string;
  fps: number;
  encoder?: EncoderSettings;
}

export function buildCaptionPreviewArgs(plan: CaptionPreviewPlan): FfmpegCommand {
  return {
    globalArgs: ['-hide_banner', '-nostdin', '-loglevel', 'error', '-stats', '-filter_complex', `[0:v:0]${burnInCaptionsFilter(plan.assPath)}[captioned]`],
    inputs: [{ args: inputHardeningArgs(), path: plan.previewPath }],
    outputs: [
      {
        args: ['-map', '[captioned]', '-map', '0:a:0', ...h264Args(plan.encoder ?? PREVIEW_ENCODER, plan.fps), '-c:a', 'copy', ...strippedMp4Args()],
        path: plan.outPath,
      },
    ],
  };
}

export async function renderCaptionPreview(plan: CaptionPreviewPlan, limits: RunLimits, run: { durationSeconds?: number | null; signal?: AbortSignal } = {}): Promise<void> {
  await runFfmpeg(buildCaptionPreviewArgs(plan), limits, run);
}

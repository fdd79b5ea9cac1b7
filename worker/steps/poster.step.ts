import { runFfmpeg, type FfmpegCommand, type RunLimits } from '../ffmpeg/ffmpeg';
import { inputHardeningArgs } from './probe.step';
import { posterArgs } from './transcode.step';

/**
 * The transcode writes the poster from the first keyframe after the poster time. A clip with no such
 * keyframe (a screen recording with one keyframe, a very short clip) gets its poster here instead,
 * from the first frame of the preview we just made: a small file, a short decode.
 */
export function buildPosterFallbackArgs(previewPath: string, posterPath: string): FfmpegCommand {
  return {
    globalArgs: ['-hide_banner', '-nostdin', '-loglevel', 'error', '-filter_complex', '[0:v:0]null[poster]'],
    inputs: [{ args: inputHardeningArgs(), path: previewPath }],
    outputs: [{ args: posterArgs(), path: posterPath }],
  };
}

export async function posterFromPreview(previewPath: string, posterPath: string, limits: RunLimits): Promise<void> {
  await runFfmpeg(buildPosterFallbackArgs(previewPath, posterPath), limits);
}

import type { Config } from '../../shared/config';
import { runFfprobe, type RunLimits } from '../ffmpeg/ffmpeg';
import { mapProbe, type MediaInfo } from '../ffmpeg/media-info';
import { MediaRejection } from './rejections';

/**
 * Demuxers a contributor's file may be opened with: the containers the upload accepts. A playlist or a
 * concat list disguised as .mp4 would otherwise make ffmpeg open other files or URLs; restricting
 * protocols alone does not stop that, restricting formats does.
 */
export const ALLOWED_DEMUXERS = 'mov,matroska,avi,mpegts';

/** Input options for every ffmpeg/ffprobe run on a contributor's file. */
export function inputHardeningArgs(): string[] {
  return [
    // Only the demuxers of the accepted containers: no hls, concat, image2, lavfi, …
    '-format_whitelist', ALLOWED_DEMUXERS,
    // Only the local file we downloaded: no network, no pipes, no other files.
    '-protocol_whitelist', 'file',
  ];
}

export function buildProbeArgs(inputPath: string): string[] {
  return [
    '-hide_banner',
    '-loglevel', 'error',
    ...inputHardeningArgs(),
    // Bounded probing: a hostile file cannot make ffprobe read for minutes.
    '-probesize', '50000000',
    '-analyzeduration', '20000000',
    '-show_streams',
    '-show_format',
    '-of', 'json',
    inputPath,
  ];
}

/** Counts the packets of one stream (demuxing only, no decoding): the true number of frames. */
export function buildPacketCountArgs(inputPath: string, streamIndex: number): string[] {
  return [
    '-hide_banner',
    '-loglevel', 'error',
    ...inputHardeningArgs(),
    '-select_streams', String(streamIndex),
    '-count_packets',
    '-show_entries', 'stream=nb_read_packets',
    '-of', 'json',
    inputPath,
  ];
}

/**
 * Probes a clip. A declared frame rate above `verifyFpsAbove` is checked by counting the frames:
 * Matroska files often declare their millisecond timebase (1000 fps) as the frame rate.
 */
export async function probe(inputPath: string, limits: RunLimits, verifyFpsAbove = Infinity): Promise<MediaInfo> {
  try {
    const info = mapProbe(await runFfprobe(buildProbeArgs(inputPath), limits));
    const video = info.video;
    if (video && info.durationSeconds && (video.averageFps ?? 0) > verifyFpsAbove) {
      const counted = await runFfprobe(buildPacketCountArgs(inputPath, video.index), limits);
      const packets = Number((counted.streams?.[0] as { nb_read_packets?: string } | undefined)?.nb_read_packets);
      if (packets > 0) video.averageFps = packets / info.durationSeconds;
    }
    return info;
  } catch (error) {
    const detail = (error as { stderrTail?: string }).stderrTail ?? '';
    if (/not on whitelist/i.test(detail)) {
      throw new MediaRejection('not_a_video', 'This file is not a video we can open (it may be a playlist or another kind of file).');
    }
    if ((error as { kind?: string }).kind === 'failed') {
      throw new MediaRejection('corrupt', 'This video file is damaged or incomplete and cannot be opened. Please send the original file again.');
    }
    throw error;
  }
}

const clockOf = (seconds: number) => {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min ${s} s`;
};

/**
 * Caps checked before any encode. A file that declares a long duration but is far too small for it is
 * cut off or forged: it is refused as damaged rather than decoded for hours.
 */
export function checkMediaLimits(info: MediaInfo, limits: Config['media']): MediaRejection | null {
  if (!info.video) {
    return info.audio
      ? new MediaRejection('audio_only', 'This file has sound but no picture. Please send a video.')
      : new MediaRejection('no_video_stream', 'This file contains no video we can play.');
  }
  if (info.streams.total > limits.maxStreams) {
    return new MediaRejection('too_many_streams', `This file has ${info.streams.total} tracks; at most ${limits.maxStreams} are accepted.`);
  }
  const duration = info.durationSeconds;
  if (duration !== null && duration > limits.maxDurationSeconds) {
    const bytesPerSecond = (info.sizeBytes ?? 0) / duration;
    if (bytesPerSecond < 4000) {
      return new MediaRejection('truncated', `This file says it lasts ${clockOf(duration)} but holds far less: it seems cut off or damaged. Please send the complete file.`);
    }
    return new MediaRejection('too_long', `This clip lasts ${clockOf(duration)}; clips up to ${clockOf(limits.maxDurationSeconds)} are accepted. Please shorten it.`);
  }
  if (info.video.width * info.video.height > limits.maxPixels) {
    return new MediaRejection('resolution_too_large', `The picture is ${info.video.width}×${info.video.height}; please send it at 4K or smaller.`);
  }
  if ((info.video.averageFps ?? 0) > limits.maxFps) {
    return new MediaRejection('frame_rate_too_high', `The clip has ${Math.round(info.video.averageFps ?? 0)} frames per second; at most ${limits.maxFps} are accepted.`);
  }
  return null;
}

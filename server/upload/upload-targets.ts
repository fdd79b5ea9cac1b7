import type { Config } from '../../shared/config';
import { AppError } from '../../shared/errors';
import { originalKey, originalSubtitlesKey } from '../../shared/storage/keys';
import type { UploadTarget } from './s3-storage-engine';
import { requireSubtitleText, requireVideoContainer } from './sniff';

const MiB = 1024 * 1024;

/** Where a clip goes and how it is checked (limit, sniffing): the same for the multipart API and tus. */
export function videoTooLarge(config: Pick<Config, 'upload'>): AppError {
  return new AppError('file_too_large', 413, `The video is larger than ${Math.floor(config.upload.maxBytes / MiB)} MiB.`);
}

export function videoTarget(config: Pick<Config, 'upload'>, submissionId: string): UploadTarget {
  return {
    key: originalKey(submissionId),
    maxBytes: config.upload.maxBytes,
    tooLarge: () => videoTooLarge(config),
    inspectHead: requireVideoContainer,
  };
}

export function subtitlesTarget(config: Pick<Config, 'upload'>, submissionId: string): UploadTarget {
  return {
    key: originalSubtitlesKey(submissionId),
    maxBytes: config.upload.subtitleMaxBytes,
    tooLarge: () =>
      new AppError('subtitle_too_large', 413, `The subtitle file is larger than ${Math.floor(config.upload.subtitleMaxBytes / 1024)} KiB.`),
    inspectHead: requireSubtitleText,
  };
}

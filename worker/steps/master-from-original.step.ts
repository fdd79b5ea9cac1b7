import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaInfo } from '../../shared/submissions/media-info';
import type { Submission } from '../../shared/submissions/submission.model';
import type { WorkerDeps } from '../deps';
import type { RunLimits } from '../ffmpeg/ffmpeg';
import { fetchOriginal } from './fetch-original.step';
import { measureLoudness } from './loudness.step';
import { probe } from './probe.step';
import { OUTPUT_FILES, transcode } from './transcode.step';

/**
 * A master for a clip approved before masters were made (it has none): made again from the original,
 * exactly as processing makes it (probe, loudness, one transcode; the preview made alongside is thrown
 * away), into the release job's folder. It is not stored: the release renders are what is kept. Needs the
 * original, which the retention job deletes some days after approval (the caller checks).
 */
export async function masterFromOriginal(
  deps: Pick<WorkerDeps, 'storage' | 'config' | 'shutdown'>,
  submission: Pick<Submission, 'original'>,
  workDir: string,
  limits: RunLimits,
): Promise<{ masterPath: string; media: MediaInfo }> {
  const originalPath = join(workDir, 'original');
  await fetchOriginal(deps.storage, submission.original, originalPath);
  const media = await probe(originalPath, limits, deps.config.media.maxFps);
  if (media.audio) media.audio.loudness = await measureLoudness(originalPath, media.audio, limits, deps.config.media.maxDurationSeconds, deps.shutdown);
  const outDir = join(workDir, 'from-original');
  await mkdir(outDir);
  await transcode(media, { inputPath: originalPath, outDir, captionsAssPath: null, maxDurationSeconds: deps.config.media.maxDurationSeconds }, limits, { signal: deps.shutdown });
  return { masterPath: join(outDir, OUTPUT_FILES.master), media };
}

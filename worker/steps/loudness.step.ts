import { FfmpegError, runFfmpeg, type FfmpegCommand, type RunLimits } from '../ffmpeg/ffmpeg';
import type { AudioInfo, Loudness } from '../ffmpeg/media-info';
import { inputHardeningArgs } from './probe.step';

/**
 * Loudness in two steps, so a clip keeps its dynamics: measure the whole track first (EBU R128
 * integrated loudness and true peak, one ffmpeg pass over the audio), then the transcode applies ONE
 * linear gain, and a true-peak limiter only when the gain would push peaks over the ceiling.
 * (ffmpeg's one-pass loudnorm is a dynamic compressor: it pumped a steady −64 LUFS hum up 50 dB.)
 */

/** EBU R128 target for social media: −14 LUFS integrated, true peak at most −1.5 dBTP. */
export const LOUDNESS = { integrated: -14, truePeak: -1.5 } as const;

/**
 * The most a clip is lifted. Speech recorded quietly (a phone at arm's length, a webcam across the
 * room: −30…−40 LUFS in the corpus and in the tests) needs up to +26 dB and gets it in full, with room
 * to spare for quieter voices down to −44 LUFS. What measures below that is mostly room tone, hum or a
 * phone microphone's own noise (−55…−70 LUFS): lifted by 30 dB it stays at least 20 LU below the
 * target (−64 LUFS → −34), audible as the quiet background it is rather than pumped up to speech level.
 */
export const MAX_GAIN_DB = 30;

/**
 * The limiter's ceiling, 0.5 dB under the target true peak: the AAC encoder's own overshoot stays
 * inside the target. It limits at 4× the sample rate, where the peaks between samples are seen.
 */
export const LIMITER_CEILING_DB = LOUDNESS.truePeak - 0.5;

/** ebur128's absolute gate: nothing above −70 LUFS means the track is silent (or nearly: digital noise). */
const SILENCE_LUFS = -70;

/** The same conversion as the preview's audio, so the measurement is of the signal the gain is applied to. */
export const AUDIO_FORMAT = 'aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo';

export function buildLoudnessMeasureArgs(inputPath: string, audio: Pick<AudioInfo, 'index'>, maxDurationSeconds: number): FfmpegCommand {
  return {
    // -nostats and info level: ebur128 prints its summary at level info; framelog=verbose keeps its per-frame lines out.
    globalArgs: ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info'],
    inputs: [{ args: inputHardeningArgs(), path: inputPath }],
    outputs: [
      {
        args: ['-map', `0:${audio.index}`, '-af', `${AUDIO_FORMAT},ebur128=peak=true:framelog=verbose`, '-t', String(maxDurationSeconds), '-f', 'null'],
        path: '-',
      },
    ],
  };
}

/** Reads ebur128's summary ("I: -23.4 LUFS" … "Peak: -3.1 dBFS") from ffmpeg's log. */
export function parseLoudnessSummary(log: string): Loudness {
  const at = log.lastIndexOf('Summary:');
  const summary = at >= 0 ? log.slice(at) : '';
  const integrated = /\bI:\s+(-?[\d.]+|-inf) LUFS/.exec(summary)?.[1];
  const peak = /\bPeak:\s+(-?[\d.]+|-inf) dBFS/.exec(summary)?.[1];
  if (integrated === undefined || peak === undefined) throw new FfmpegError('failed', 'ffmpeg printed no loudness summary for the audio', log.slice(-500));
  return {
    integrated: integrated === '-inf' ? SILENCE_LUFS : Math.max(SILENCE_LUFS, Number(integrated)),
    truePeak: peak === '-inf' ? null : Number(peak),
  };
}

/** One pass over the clip's audio (niced, time-limited like every ffmpeg run). */
export async function measureLoudness(inputPath: string, audio: Pick<AudioInfo, 'index'>, limits: RunLimits, maxDurationSeconds: number, signal?: AbortSignal): Promise<Loudness> {
  const log = await runFfmpeg(buildLoudnessMeasureArgs(inputPath, audio, maxDurationSeconds), limits, { signal });
  return parseLoudnessSummary(log);
}

/**
 * The gain to apply, in dB (rounded to 0.1): towards −14 LUFS, never more than MAX_GAIN_DB up, none
 * for silence; and whether the limiter is needed (peaks would pass the ceiling after the gain).
 */
export function loudnessGain(measured: Loudness | undefined): { gainDb: number; limit: boolean } {
  if (!measured || measured.truePeak === null || measured.integrated <= SILENCE_LUFS) return { gainDb: 0, limit: false };
  const gainDb = Math.round(Math.min(LOUDNESS.integrated - measured.integrated, MAX_GAIN_DB) * 10) / 10;
  return { gainDb, limit: measured.truePeak + gainDb > LIMITER_CEILING_DB };
}

/** The audio chain of the preview: format, one linear gain, and a true-peak limiter at 4× when needed. */
export function loudnessFilters(measured: Loudness | undefined): string[] {
  const { gainDb, limit } = loudnessGain(measured);
  const ceiling = (10 ** (LIMITER_CEILING_DB / 20)).toFixed(4);
  return [
    AUDIO_FORMAT,
    ...(gainDb !== 0 ? [`volume=${gainDb}dB`] : []),
    // level=disabled: alimiter would otherwise raise everything to full scale; latency=enabled keeps it in sync with the picture.
    ...(limit ? ['aresample=192000', `alimiter=limit=${ceiling}:level=disabled:latency=enabled`, AUDIO_FORMAT] : []),
  ];
}

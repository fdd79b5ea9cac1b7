import { commandArgs } from '../../worker/ffmpeg/ffmpeg';
import { buildLoudnessMeasureArgs, loudnessFilters, loudnessGain, MAX_GAIN_DB, parseLoudnessSummary } from '../../worker/steps/loudness.step';

const FORMAT = 'aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo';
const LIMITER = ['aresample=192000', 'alimiter=limit=0.7943:level=disabled:latency=enabled', FORMAT];

describe('the loudness gain', () => {
  test.each([
    ['quiet speech, peaks low enough', { integrated: -30, truePeak: -20 }, 16, false],
    ['quiet speech whose peaks would pass −2 dBTP', { integrated: -40, truePeak: -23.6 }, 26, true],
    ['a loud clip is turned down', { integrated: -6.6, truePeak: -0.5 }, -7.4, false],
    ['a clip already at the target', { integrated: -14, truePeak: -3 }, 0, false],
    ['a near-silent hum: lifted by the ceiling only', { integrated: -64, truePeak: -50 }, MAX_GAIN_DB, false],
    ['room noise with a loud click, just above the gate', { integrated: -69.9, truePeak: -20 }, MAX_GAIN_DB, true],
    ['silence (ebur128 gives −70 and −inf)', { integrated: -70, truePeak: null }, 0, false],
    ['digital noise under the gate', { integrated: -70, truePeak: -90 }, 0, false],
  ] as const)('when the track is %s (%j), then the gain is %d dB, limiter %s', (_what, measured, gainDb, limit) => {
    expect(loudnessGain(measured)).toEqual({ gainDb, limit });
  });

  test('when the track was not measured, then it is left as recorded', () => {
    expect(loudnessGain(undefined)).toEqual({ gainDb: 0, limit: false });
    expect(loudnessFilters(undefined)).toEqual([FORMAT]);
  });

  test('the filters: format, one linear gain, and the true-peak limiter at 4× only when needed', () => {
    expect(loudnessFilters({ integrated: -30, truePeak: -20 })).toEqual([FORMAT, 'volume=16dB']);
    expect(loudnessFilters({ integrated: -40.04, truePeak: -23.6 })).toEqual([FORMAT, 'volume=26dB', ...LIMITER]);
    expect(loudnessFilters({ integrated: -10, truePeak: 3 })).toEqual([FORMAT, 'volume=-4dB', ...LIMITER]);
    expect(loudnessFilters({ integrated: -70, truePeak: null })).toEqual([FORMAT]);
  });
});

describe('measuring', () => {
  test('one pass over the audio, converted as the preview will carry it, with the allow-listed demuxers', () => {
    expect(commandArgs(buildLoudnessMeasureArgs('/w/original', { index: 2 }, 600))).toEqual([
      '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info',
      '-format_whitelist', 'mov,matroska,avi,mpegts', '-protocol_whitelist', 'file', '-i', '/w/original',
      '-y', '-map', '0:2', '-af', `${FORMAT},ebur128=peak=true:framelog=verbose`, '-t', '600', '-f', 'null', '-',
    ]);
  });

  const summary = (i: string, peak: string) =>
    `[Parsed_ebur128_2 @ 0x55] Summary:\n\n  Integrated loudness:\n    I:         ${i} LUFS\n    Threshold: -50.1 LUFS\n\n  Loudness range:\n    LRA:         3.2 LU\n\n  True peak:\n    Peak:       ${peak} dBFS\n`;

  test.each([
    [summary('-40.0', '-23.6'), { integrated: -40, truePeak: -23.6 }],
    [summary('-70.0', '-inf'), { integrated: -70, truePeak: null }],
    [summary('-inf', '-inf'), { integrated: -70, truePeak: null }],
    [`Stream mapping: ...\nI:  -3.0 LUFS\n${summary('-12.5', '0.4')}`, { integrated: -12.5, truePeak: 0.4 }],
  ])('when ebur128 prints %j, then the measurement is %j', (log, measured) => {
    expect(parseLoudnessSummary(log)).toEqual(measured);
  });

  test('when there is no summary, then the clip is treated as one ffmpeg cannot read', () => {
    expect(() => parseLoudnessSummary('Output file is empty, nothing was encoded')).toThrow(expect.objectContaining({ kind: 'failed' }));
  });
});

import { FIXTURES } from '../helpers/fixtures';
import { formatDumpFilter, runFfmpeg, type RunLimits } from '../../worker/ffmpeg/ffmpeg';
import { buildLoudnessMeasureArgs } from '../../worker/steps/loudness.step';

const LIMITS: RunLimits = { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', niceness: 0, timeoutSeconds: 60 };
// What the fixtures' tags hold: a position, a phone model, an OS version.
const TAG_VALUES = ['53.9006', '027.5590', 'iPhone', 'com.android.version', 'creation_time'];

describe("ffmpeg's output never carries a clip's tags", () => {
  test.each(['appleTagged', 'androidTagged'] as const)(
    'when the loudness pass (level info, which dumps the formats) reads a %s clip, then the log it keeps names none of its tags',
    async (fixture) => {
      const path = await FIXTURES[fixture]!();
      const log = await runFfmpeg(buildLoudnessMeasureArgs(path, { index: 1 }, 60), LIMITS);
      expect(log).toContain('Summary:');
      for (const value of TAG_VALUES) expect(log).not.toContain(value);
    },
  );

  test('when ffmpeg dumps a format, then the dump and its indented blocks are dropped and what follows is kept', () => {
    const keep = formatDumpFilter();
    const lines = [
      "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'original':",
      '  Metadata:',
      '    location        : +53.9006+027.5590/',
      '  Duration: 00:00:02.00, start: 0.000000, bitrate: 120 kb/s',
      '  Stream #0:0[0x1](und): Video: h264',
      'Stream mapping:',
      '  Stream #0:1 -> #0:0 (aac (native) -> pcm_s16le (native))',
      "Output #0, null, to 'pipe:':",
      '  Metadata:',
      '    encoder         : Lavf59.27.100',
      '[Parsed_ebur128_1 @ 0x55] Summary:',
      '  Integrated loudness:',
      '    I:         -23.0 LUFS',
    ];
    expect(lines.filter(keep)).toEqual(['[Parsed_ebur128_1 @ 0x55] Summary:', '  Integrated loudness:', '    I:         -23.0 LUFS']);
  });
});

import { commandArgs } from '../../worker/ffmpeg/ffmpeg';
import { buildCaptionPreviewArgs } from '../../worker/steps/caption-preview.step';
import { checkCues, CueEditError, cuesFromRows, formatCueTime, type CueProblem } from '../../shared/subtitles/cue-edits';
import { readCueTime } from '../../shared/subtitles/subtitle-scan';
import { toAss } from '../../shared/subtitles/subtitles';
import { CAPTION_LANGUAGE } from '../../shared/captions/caption-versions';
import { LANGUAGE_CODE } from '../../server/services/campaign.service';

const problemsOf = (run: () => unknown): Array<Pick<CueProblem, 'cue' | 'code' | 'field'>> => {
  try {
    run();
  } catch (error) {
    if (error instanceof CueEditError) return error.problems.map(({ cue, code, field }) => ({ cue, code, field }));
    throw error;
  }
  throw new Error('no problem found');
};

describe('the caption editor\'s rows', () => {
  test.each([
    ['00:00:01.500', 1500],
    ['00:01,25', 1250],
    ['  1:02:03.004 ', 3_723_004],
    ['01:02.5', 62_500],
    ['1.5', null],
    ['00:00:01', null],
    ['00:00:01.500 --> 00:00:02.000', null],
    ['', null],
  ])('the time "%s" reads as %s', (text, ms) => {
    expect(readCueTime(text)).toBe(ms);
  });

  test('when rows are typed in any order, with markup and a blank row, then they come back as sorted plain cues', () => {
    const rows = [
      { start: '00:00:02.000', end: '00:00:03.000', text: '<b>second</b>' },
      { start: '', end: '', text: '' },
      { start: '00:00:00.500', end: '00:00:01.500', text: '{\\an8}first\r\nline two' },
    ];
    expect(cuesFromRows(rows, 4000)).toEqual([
      { startMs: 500, endMs: 1500, text: 'first\nline two' },
      { startMs: 2000, endMs: 3000, text: 'second' },
    ]);
    expect(formatCueTime(3_723_004)).toBe('01:02:03.004');
  });

  test.each([
    ['a time that is not one', [{ start: '1.5', end: '00:00:02.000', text: 'x' }], [{ cue: 1, code: 'time_format', field: 'start' }]],
    ['an end before the start', [{ start: '00:00:02.000', end: '00:00:01.000', text: 'x' }], [{ cue: 1, code: 'end_not_after_start', field: 'end' }]],
    ['an end equal to the start', [{ start: '00:00:01.000', end: '00:00:01.000', text: 'x' }], [{ cue: 1, code: 'end_not_after_start', field: 'end' }]],
    ['an end past the clip', [{ start: '00:00:01.000', end: '00:00:04.500', text: 'x' }], [{ cue: 1, code: 'beyond_duration', field: 'end' }]],
    ['a start past the clip', [{ start: '00:00:05.000', end: '00:00:06.000', text: 'x' }], [{ cue: 1, code: 'beyond_duration', field: 'start' }]],
    ['overlapping cues', [{ start: '00:00:00.000', end: '00:00:02.000', text: 'a' }, { start: '00:00:01.000', end: '00:00:03.000', text: 'b' }], [{ cue: 2, code: 'overlap', field: 'start' }]],
    ['an empty text', [{ start: '00:00:00.000', end: '00:00:01.000', text: '<i></i> ' }], [{ cue: 1, code: 'text_empty', field: 'text' }]],
    ['a text too long', [{ start: '00:00:00.000', end: '00:00:01.000', text: 'x'.repeat(1001) }], [{ cue: 1, code: 'text_too_long', field: 'text' }]],
    ['too many lines', [{ start: '00:00:00.000', end: '00:00:01.000', text: 'x\n'.repeat(13) }], [{ cue: 1, code: 'too_many_lines', field: 'text' }]],
    ['no cue at all', [{ start: '', end: '', text: '' }], [{ cue: 0, code: 'no_cues', field: null }]],
  ])('when a row has %s, then it is refused naming the cue and the field', (_name, rows, expected) => {
    expect(problemsOf(() => cuesFromRows(rows, 4000))).toEqual(expected);
  });

  test('when 5001 cues are given, then the whole set is refused', () => {
    const cues = Array.from({ length: 5001 }, (_, i) => ({ startMs: i, endMs: i + 1, text: 'x' }));
    expect(problemsOf(() => checkCues(cues, 10_000))).toEqual([{ cue: 0, code: 'too_many_cues', field: null }]);
  });
});

describe('buildCaptionPreviewArgs', () => {
  test('the preview is captioned from our ASS file in one run, its sound copied, no metadata', () => {
    expect(commandArgs(buildCaptionPreviewArgs({ previewPath: '/w/preview.mp4', assPath: '/w/captions.ass', outPath: '/w/out.mp4', fps: 25 }))).toEqual([
      '-hide_banner', '-nostdin', '-loglevel', 'error', '-stats', '-filter_complex', '[0:v:0]ass=filename=/w/captions.ass[captioned]',
      '-format_whitelist', 'mov,matroska,avi,mpegts', '-protocol_whitelist', 'file', '-i', '/w/preview.mp4',
      '-y',
      '-map', '[captioned]', '-map', '0:a:0',
      '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-g', '50', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709',
      '-c:a', 'copy',
      '-map_metadata', '-1', '-map_chapters', '-1', '-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact', '-movflags', '+faststart',
      '/w/out.mp4',
    ]);
  });
});

/** What a moderator types must reach the burned-in preview as text, never as a libass command. */
describe('hostile text typed in the caption editor', () => {
  const dialogueText = (text: string) => {
    const cues = cuesFromRows([{ start: '00:00:00.000', end: '00:00:01.000', text }], 4000);
    const line = toAss(cues, { width: 1280, height: 720 }).split('\n').find((l) => l.startsWith('Dialogue:'))!;
    return line.split(',').slice(9).join(',');
  };

  test.each([
    ['an override block', '{\\pos(10,10)}{\\fnComic Sans}hi', 'hi'],
    ['a doubled backslash override', '{\\\\an8}top', 'top'],
    ['an unclosed override block', '{\\an8 top', '｛⧵an8 top'],
    ['hard space and line break escapes', 'a\\hb\\Nc\\nd', 'a⧵hb⧵Nc⧵nd'],
    ['a drawing command', '{\\p1}m 0 0 l 100 0 100 100{\\p0}', 'm 0 0 l 100 0 100 100'],
    ['a closing brace alone', 'a } b', 'a ｝ b'],
    ['an entity that decodes to a tag opener', '&lt;b&gt;x', '<b>x'],
    ['a C1 control (next line)', 'a\u0085b', 'ab'],
    ['right-to-left text with its marks', '\u200fשלום\u200e!', '\u200fשלום\u200e!'],
  ])('when the text has %s, then the ASS line carries no override block and no escape', (_name, typed, shown) => {
    const text = dialogueText(typed);
    expect(text).toBe(shown);
    expect(text).not.toMatch(/[{}\\]/);
  });

  test('when a text has several lines, then only the code\'s own \\N breaks them', () => {
    expect(dialogueText('one\r\ntwo\rthree\n\\N')).toBe('one\\Ntwo\\Nthree\\N⧵N');
  });

  test.each([
    ['zero-width spaces', '\u200b\u200b'],
    ['direction marks and overrides', '\u200f\u202e\u2066'],
    ['a soft hyphen and a word joiner', '\u00ad\u2060'],
    ['a Hangul filler', '\u3164'],
    ['an override block around a zero-width joiner', '{\\an8}\u200d'],
  ])('when the text is only %s, then the cue is refused as empty', (_name, typed) => {
    expect(problemsOf(() => cuesFromRows([{ start: '00:00:00.000', end: '00:00:01.000', text: typed }], 4000))).toEqual([{ cue: 1, code: 'text_empty', field: 'text' }]);
  });

  test.each([
    ['-00:00:01.000', 'a negative time'],
    ['00:00:75.000', 'seconds past 59'],
    ['00:61:00.000', 'minutes past 59'],
    ['99:99:99,999', 'every field at its widest'],
    ['00:00:01.5000', 'four decimals'],
    ['00:00:01.500\u202e', 'a direction override after it'],
  ])('when a time is "%s" (%s), then it is refused as not a time', (start) => {
    expect(problemsOf(() => cuesFromRows([{ start, end: '00:00:02.000', text: 'x' }], 4000))).toEqual([{ cue: 1, code: 'time_format', field: 'start' }]);
  });

  test('when the times use a comma or a dot, or no hours, then they read the same', () => {
    expect(cuesFromRows([{ start: '00:00:00,500', end: '00:01.500', text: 'x' }], 4000)).toEqual([{ startMs: 500, endMs: 1500, text: 'x' }]);
  });

  test('when 5000 cues of 4000 characters of markup are checked, then it takes well under the request\'s time (linear)', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => ({ start: formatCueTime(i * 10), end: formatCueTime(i * 10 + 5), text: `{${'\\an8'.repeat(790)}}${'x'.repeat(40)}<` }));
    const started = process.hrtime.bigint();
    expect(cuesFromRows(rows, 60_000)).toHaveLength(5000);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2000);
  });
});

describe('caption language codes', () => {
  test.each(['be', 'pt-br', 'sr-latn', 'sr-latn-rs', 'zh-hant-tw', 'de-ch-1996-x1'])('when a contributor\'s language is "%s", then its captions can be named and released', (code) => {
    expect(LANGUAGE_CODE.test(code)).toBe(true);
    expect(CAPTION_LANGUAGE.test(code)).toBe(true);
  });

  test('when the longest caption language names its sidecar, then the name fits the gallery\'s download route (40 characters)', () => {
    const longest = 'abc-abcdefgh-abcdefgh-abcde';
    expect(CAPTION_LANGUAGE.test(longest)).toBe(true);
    expect(`captions-${longest}-srt`).toMatch(/^[a-z0-9-]{1,40}$/);
  });

  test.each(['../be', 'be/../../x', 'be%2f', 'be\n', 'be&saved=1', 'be?x', 'BE', 'b', 'be-', `be${'-abcd'.repeat(5)}`, 'abc-abcdefgh-abcdefgh-abcdef'])('when a language is "%s", then it is no caption language (file names, keys, redirects)', (code) => {
    expect(CAPTION_LANGUAGE.test(code)).toBe(false);
  });
});

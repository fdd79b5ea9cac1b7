import { decodeSubtitleBytes } from '../../shared/subtitles/decode-text';
import { assText, parseSubtitles, plainText, SubtitleParseError, toAss, toSrt, toWebVtt } from '../../shared/subtitles/subtitles';

const CYRILLIC = 'Свабоду палітвязням! Прафсаюзы — не экстрэмізм.';

describe('decodeSubtitleBytes', () => {
  const srt = `1\r\n00:00:01,000 --> 00:00:03,000\r\n${CYRILLIC}\r\n`;

  test.each([
    ['UTF-8', Buffer.from(srt, 'utf8'), 'utf-8'],
    ['UTF-8 with BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(srt, 'utf8')]), 'utf-8'],
    ['UTF-16 LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(srt, 'utf16le')]), 'utf-16le'],
    ['windows-1251', encode(srt, 'windows-1251'), 'windows-1251'],
  ])('when the file is %s, then it decodes to the same text', (_what, bytes, encoding) => {
    const decoded = decodeSubtitleBytes(bytes, 'be');
    expect(decoded.encoding).toBe(encoding);
    expect(decoded.text).toBe(srt);
  });

  test('when a Russian file is KOI8-R, then it is told apart from windows-1251 (which would read it in the wrong case)', () => {
    const russian = '1\n00:00:01,000 --> 00:00:02,000\nСвободу политзаключённым!\n'.replace('ё', 'е');
    expect(decodeSubtitleBytes(encode(russian, 'koi8-r'), 'ru')).toEqual({ text: russian, encoding: 'koi8-r' });
  });

  test('when the language is Russian and the file is windows-1251, then it is read as Cyrillic (not as Latin-1)', () => {
    expect(decodeSubtitleBytes(encode('Привет, товарищи!', 'windows-1251'), 'ru').text).toBe('Привет, товарищи!');
  });
});

/** Legacy encoders are not in Node: build the bytes from the decoder's own table. */
function encode(text: string, encoding: string): Buffer {
  const decoder = new TextDecoder(encoding);
  const table = new Map<string, number>();
  for (let byte = 0; byte < 256; byte += 1) table.set(decoder.decode(Buffer.from([byte])), byte);
  return Buffer.from([...text].map((char) => table.get(char) ?? 0x3f));
}

describe('parseSubtitles', () => {
  test('when SRT has markup, then the cues are plain text with their times', () => {
    const cues = parseSubtitles('1\n00:00:01,500 --> 00:00:04,000\n<i>Hello</i> {\\an8}<font color="red">world</font>\nsecond line\n\n2\n00:00:05,000 --> 00:00:06,250\nBye\n');
    expect(cues).toEqual([
      { startMs: 1500, endMs: 4000, text: 'Hello world\nsecond line' },
      { startMs: 5000, endMs: 6250, text: 'Bye' },
    ]);
  });

  test('when WebVTT has a header, notes, styles, identifiers and cue settings, then only the cues remain', () => {
    const cues = parseSubtitles('WEBVTT - demo\nKind: captions\n\nNOTE a note\n\nSTYLE\n::cue { color: red }\n\nintro\n00:01.000 --> 00:02.000 align:start line:10%\n<v Anna>Hi &amp; welcome</v>\n');
    expect(cues).toEqual([{ startMs: 1000, endMs: 2000, text: 'Hi & welcome' }]);
  });

  test.each([
    ['a broken timing', '1\n00:00:01,000 -> 00:00:02,000\nHi\n', 2],
    ['text where a cue number should be', '1\n00:00:01,000 --> 00:00:02,000\nHi\n\nHello there\n00:00:03,000 --> 00:00:04,000\nYo\n', 5],
    ['a cue ending before it starts', '1\n00:00:05,000 --> 00:00:02,000\nHi\n', 2],
    ['no cues at all', '\n\n', 1],
  ])('when the file has %s, then the error names line %i', (_what, source, line) => {
    expect(() => parseSubtitles(source)).toThrow(SubtitleParseError);
    try {
      parseSubtitles(source);
    } catch (error) {
      expect((error as SubtitleParseError).line).toBe(line);
    }
  });
});

describe('writing subtitles', () => {
  const cues = [{ startMs: 61_005, endMs: 3_723_450, text: 'a < b & c\nline two' }];

  test('WebVTT and SRT are clean and UTF-8-ready', () => {
    expect(toWebVtt(cues)).toBe('WEBVTT\n\n00:01:01.005 --> 01:02:03.450\na &lt; b &amp; c\nline two\n');
    expect(toSrt(cues)).toBe('1\n00:01:01,005 --> 01:02:03,450\na < b & c\nline two\n');
  });

  test('ASS text cannot carry override tags or escapes from the contributor', () => {
    expect(assText('{\\b1}bold\\N{\\pos(1,1)}')).toBe('｛⧵b1｝bold⧵N｛⧵pos(1,1)｝');
    expect(plainText('{\\b1}bold{\\b0}')).toBe('bold');
    const ass = toAss([{ startMs: 0, endMs: 1000, text: 'שלום\nمرحبا' }], { width: 720, height: 1280 });
    expect(ass).toContain('PlayResX: 720\nPlayResY: 1280');
    expect(ass).toContain('Dialogue: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,שלום\\Nمرحبا');
    expect(ass).toMatch(/^Style: Default,Noto Sans,\d+,.*,-1$/m);
  });
});

import { decodeSubtitleBytes } from '../../shared/subtitles/decode-text';
import { isJsSpace, readTimingLine, removeDelimited } from '../../shared/subtitles/subtitle-scan';
import { parseSubtitles, SUBTITLE_LIMITS, SubtitleParseError, type Cue } from '../../shared/subtitles/subtitles';
import { hostileSubtitles, plainSrt } from '../helpers/hostile-subtitles';

/** Decodes and parses as the worker's subtitle step does; the parse error, if any, instead of the cues. */
function read(bytes: Buffer): { cues: Cue[] | null; error: unknown; seconds: number } {
  const started = process.hrtime.bigint();
  let cues: Cue[] | null = null;
  let error: unknown = null;
  try {
    cues = parseSubtitles(decodeSubtitleBytes(bytes, 'en').text);
  } catch (caught) {
    error = caught;
  }
  return { cues, error, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

describe('hostile subtitle files of the upload limit (1 MiB)', () => {
  // Generous: a linear parser takes milliseconds here; the quadratic one took minutes per file.
  const BOUND_SECONDS = 3;

  test.each(hostileSubtitles().map((file) => [file.name, file] as const))('when the file is %s, then it is answered at once and clearly', (_name, file) => {
    const { cues, error, seconds } = read(file.bytes);
    expect(seconds).toBeLessThan(BOUND_SECONDS);
    if (file.outcome === 'accepted') {
      expect(error).toBeNull();
      expect(cues!.length).toBeGreaterThan(1000);
      for (const cue of cues!) expect(cue.text.length).toBeLessThanOrEqual(SUBTITLE_LIMITS.maxCueChars);
    } else {
      expect(error).toBeInstanceOf(SubtitleParseError);
      expect((error as SubtitleParseError).line).toBe(file.outcome.refusedAt);
      expect((error as SubtitleParseError).message).toMatch(file.outcome.reason);
      expect((error as SubtitleParseError).message).toMatch(new RegExp(`^line ${file.outcome.refusedAt}: `));
    }
  });

  test('when a plain 1 MiB SRT is sent, then all its cues are read', () => {
    const { cues, error } = read(plainSrt());
    expect(error).toBeNull();
    expect(cues!.length).toBeGreaterThan(4000);
    expect(cues![1]).toEqual({ startMs: 2000, endMs: 3500, text: expect.stringContaining('Salidarnasc') });
  });

  test('when a line is exactly as long as allowed, then it is read; one character more, then the file is refused naming it', () => {
    // Mostly markup, so the cue's text stays short.
    const cue = (length: number) => `1\n00:00:01,000 --> 00:00:02,000\n<font color="${'x'.repeat(length - 24)}">Hi</font>\n`;
    expect(parseSubtitles(cue(SUBTITLE_LIMITS.maxLineChars))).toHaveLength(1);
    expect(() => parseSubtitles(cue(SUBTITLE_LIMITS.maxLineChars + 1))).toThrow('line 3: the line is longer than 4000 characters');
  });

  test('when there are exactly 5000 cues, then they are read; one more, then the file is refused at its timing line', () => {
    const cues = (count: number) => Array.from({ length: count }, (_, n) => `00:${String(Math.floor(n / 100)).padStart(2, '0')}.${String(n % 100).padStart(2, '0')}0 --> 99:00.000\nx\n`).join('\n');
    expect(parseSubtitles(`WEBVTT\n\n${cues(5000)}`)).toHaveLength(5000);
    expect(() => parseSubtitles(`WEBVTT\n\n${cues(5001)}`)).toThrow('line 15003: more than 5000 cues');
  });
});

/** The expressions the scanners replaced: the scanners must read every line exactly as they did. */
const OLD_TIMING = /^\s*((?:\d{1,3}:)?\d{1,2}:\d{2}[,.]\d{1,3})\s*-->\s*((?:\d{1,3}:)?\d{1,2}:\d{2}[,.]\d{1,3})(?:\s+.*)?$/;

function oldTime(value: string): number {
  const [clock = '', fraction = '0'] = value.split(/[,.]/);
  const [h = 0, m = 0, s = 0] = [0, 0, ...clock.split(':').map(Number)].slice(-3);
  return ((h * 60 + m) * 60 + s) * 1000 + Number(fraction.padEnd(3, '0'));
}

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('the scanners that replaced the expressions', () => {
  test('when any UTF-16 code unit is tested for white space, then the answer is what \\s says', () => {
    const differing = Array.from({ length: 0x10000 }, (_, code) => code).filter((code) => isJsSpace(code) !== /\s/.test(String.fromCharCode(code)));
    expect(differing).toEqual([]);
  });

  test('when any short text of braces, brackets, letters and newlines is stripped, then the result is what the expressions gave', () => {
    const alphabet = ['{', '}', '<', '>', 'a', '\n'];
    const differing: string[] = [];
    let texts = [''];
    for (let length = 1; length <= 6; length += 1) {
      texts = texts.flatMap((text) => alphabet.map((c) => text + c));
      for (const text of texts) {
        if (removeDelimited(text, '{', '}') !== text.replace(/\{[^}]*\}/g, '')) differing.push(text);
        if (removeDelimited(text, '<', '>') !== text.replace(/<[^>]*>/g, '')) differing.push(text);
      }
    }
    expect(differing).toEqual([]);
  });

  test('when 50 000 generated near-timing lines are read, then each is a timing exactly when the expression said so, with its times', () => {
    const next = random(20_261_201);
    const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)]!;
    const digits = () => Array.from({ length: pick([0, 1, 2, 2, 2, 2, 3, 4]) }, () => pick(['0', '1', '5', '9'])).join('');
    const wellFormed = () => pick(['00:00:01,000', '1:02.5', '01:02:03.45', '100:59:59,999', '9:59.90', '00:00:00.000']);
    const time = () => next() < 0.5 ? wellFormed() : Array.from({ length: pick([1, 2, 2, 3, 3, 4]) }, digits).join(':') + pick([',', '.', ',', '.', ',', ':', '', ';']) + digits();
    const space = () => pick(['', '', ' ', '  ', '\t', '\u00a0', '\u2028', '\ufeff']);
    const tail = () => pick(['', '', ' align:start line:10%', ' x\u2028', '\u2028 x', 'x', ' ', ' \u2029', '5', '\t-->']);
    const differing: string[] = [];
    let timings = 0;
    for (let n = 0; n < 50_000; n += 1) {
      const line = space() + time() + space() + pick(['-->', '-->', '->', '-- >']) + space() + time() + tail();
      const match = OLD_TIMING.exec(line);
      const expected = match ? { startMs: oldTime(match[1]!), endMs: oldTime(match[2]!) } : null;
      if (JSON.stringify(readTimingLine(line)) !== JSON.stringify(expected)) differing.push(line);
      if (match) timings += 1;
    }
    expect(differing).toEqual([]);
    expect(timings).toBeGreaterThan(500); // the generator makes valid timings too, not only garbage
  });
});

import { stripBidiControls, stripXmlForbidden } from '../text/hostile-text';
import { readTimingLine, removeDelimited } from './subtitle-scan';

/**
 * SRT and WebVTT in, plain cues out, and back to clean UTF-8 WebVTT, SRT and an ASS file of our own for
 * burning in. Styling from the contributor (HTML-ish tags, ASS override blocks, VTT settings) is dropped:
 * only plain text reaches the renderer, and the style is ours.
 */

export interface Cue {
  startMs: number;
  endMs: number;
  /** Plain text; lines separated by "\n". */
  text: string;
}

export class SubtitleParseError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'SubtitleParseError';
  }
}

// Generous: credits and audio descriptions run to ten lines; the limits only stop absurd files. Line
// length and the number of timing lines are checked while the file is cut into lines, before anything else.
export const SUBTITLE_LIMITS = { maxCues: 5000, maxCueChars: 1000, maxLinesPerCue: 12, maxLineChars: 4000 };

/** Cuts the file at CRLF, CR or LF (as `split(/\r\n|\r|\n/)` did), refusing absurd lines and cue counts. */
function splitLines(source: string): string[] {
  const lines: string[] = [];
  let timingLines = 0;
  let start = 0;
  for (;;) {
    let end = start;
    while (end < source.length && source.charCodeAt(end) !== 0x0a && source.charCodeAt(end) !== 0x0d) end += 1;
    const lineNumber = lines.length + 1;
    if (end - start > SUBTITLE_LIMITS.maxLineChars) {
      throw new SubtitleParseError(lineNumber, `the line is longer than ${SUBTITLE_LIMITS.maxLineChars} characters`);
    }
    const line = source.slice(start, end);
    if (line.includes('-->')) {
      timingLines += 1;
      if (timingLines > SUBTITLE_LIMITS.maxCues) throw new SubtitleParseError(lineNumber, `more than ${SUBTITLE_LIMITS.maxCues} cues`);
    }
    lines.push(line);
    if (end === source.length) return lines;
    start = end + (source.charCodeAt(end) === 0x0d && source.charCodeAt(end + 1) === 0x0a ? 2 : 1);
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', nbsp: '\u00a0', lrm: '\u200e', rlm: '\u200f', quot: '"', apos: "'" };

/**
 * Removes markup: <b>, <i>, <font …>, <c.class>, <v Speaker>, <00:01.000>, {\an8}, {\b1} … Every step is
 * linear in the text's length (the brace and tag spans by a scanner, the rest by expressions that look
 * at a bounded number of characters from each position).
 */
export function plainText(text: string): string {
  return removeDelimited(removeDelimited(text, '{', '}'), '<', '>')
    .replace(/&(amp|lt|gt|nbsp|lrm|rlm|quot|apos);/g, (_m, name: string) => ENTITIES[name] ?? '')
    .split('\n')
    .map((line) => stripBidiControls(stripXmlForbidden(line.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, ''))).trim())
    .filter((line) => line !== '')
    .join('\n');
}

/**
 * Whether a text shows nothing: only spaces and invisible characters (zero-width spaces and joiners,
 * direction marks and overrides, soft hyphens, word joiners, Hangul fillers, the blank Braille pattern).
 * Such a cue would be burned in as an empty box.
 */
export function isBlankText(text: string): boolean {
  return text.replace(/[\p{Cf}\p{Z}\s\u115f\u1160\u3164\uffa0\u2800]/gu, '') === '';
}

/**
 * Parses SRT or WebVTT (told apart by the WEBVTT header). Throws a SubtitleParseError naming the line.
 * Linear in the file's length: a 1 MiB file is read or refused in well under a second.
 */
export function parseSubtitles(source: string): Cue[] {
  const lines = splitLines(source.charCodeAt(0) === 0xfeff ? source.slice(1) : source);
  const isVtt = /^WEBVTT(?:[ \t].*)?$/.test(lines[0] ?? '');
  const cues: Cue[] = [];
  let i = 0;

  if (isVtt) {
    i = 1;
    while (i < lines.length && (lines[i] ?? '').trim() !== '') i += 1; // header lines
  }

  while (i < lines.length) {
    while (i < lines.length && (lines[i] ?? '').trim() === '') i += 1;
    if (i >= lines.length) break;
    const blockStart = i;
    const first = lines[i] ?? '';
    if (isVtt && /^(NOTE|STYLE|REGION)(\s|$)/.test(first)) {
      while (i < lines.length && (lines[i] ?? '').trim() !== '') i += 1;
      continue;
    }
    let timingLine = first;
    let timing = readTimingLine(first);
    if (!timing) {
      // An SRT counter or a VTT cue identifier, then the timing.
      if (!isVtt && !/^\s*\d+\s*$/.test(first)) {
        throw new SubtitleParseError(blockStart + 1, `expected a cue number or a timing like "00:00:01,000 --> 00:00:02,500", found "${first.slice(0, 60)}"`);
      }
      i += 1;
      timingLine = lines[i] ?? '';
      timing = readTimingLine(timingLine);
    }
    if (!timing) {
      throw new SubtitleParseError(i + 1, `expected a timing like "00:00:01,000 --> 00:00:02,500", found "${timingLine.slice(0, 60)}"`);
    }
    const { startMs, endMs } = timing;
    if (endMs <= startMs) throw new SubtitleParseError(i + 1, 'the cue ends before it starts');
    i += 1;
    const textLines: string[] = [];
    while (i < lines.length && (lines[i] ?? '').trim() !== '') {
      textLines.push(lines[i] ?? '');
      i += 1;
    }
    const text = plainText(textLines.join('\n'));
    if (text.length > SUBTITLE_LIMITS.maxCueChars || text.split('\n').length > SUBTITLE_LIMITS.maxLinesPerCue) {
      throw new SubtitleParseError(blockStart + 1, `the cue is too long (at most ${SUBTITLE_LIMITS.maxLinesPerCue} lines of text)`);
    }
    if (!isBlankText(text)) cues.push({ startMs, endMs, text });
  }
  if (cues.length === 0) throw new SubtitleParseError(1, 'no subtitles found: the file has no cues with text');
  return cues.sort((a, b) => a.startMs - b.startMs);
}

function clock(ms: number, separator: '.' | ','): string {
  const pad = (n: number, width = 2) => String(Math.floor(n)).padStart(width, '0');
  return `${pad(ms / 3_600_000)}:${pad((ms / 60_000) % 60)}:${pad((ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`;
}

export function toWebVtt(cues: Cue[]): string {
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `WEBVTT\n\n${cues.map((c) => `${clock(c.startMs, '.')} --> ${clock(c.endMs, '.')}\n${escape(c.text)}\n`).join('\n')}`;
}

export function toSrt(cues: Cue[]): string {
  return cues.map((c, n) => `${n + 1}\n${clock(c.startMs, ',')} --> ${clock(c.endMs, ',')}\n${c.text}\n`).join('\n');
}

function assTime(ms: number): string {
  const cs = Math.floor(ms / 10);
  const pad = (n: number) => String(Math.floor(n)).padStart(2, '0');
  return `${Math.floor(cs / 360_000)}:${pad((cs / 6000) % 60)}:${pad((cs / 100) % 60)}.${pad(cs % 100)}`;
}

/**
 * Cue text for an ASS Dialogue line: nothing in it can act as markup. Braces would open an override
 * block and a backslash could make \N or \h, so they become look-alike characters; newlines become \N.
 */
export function assText(text: string): string {
  return text.replace(/\\/g, '\u29f5').replace(/\{/g, '\uff5b').replace(/\}/g, '\uff5d').replace(/\n/g, '\\N');
}

/**
 * Our own ASS file for burning in, sized to the video: Noto Sans (Cyrillic, Latin, Greek; fontconfig
 * falls back to Noto Sans Arabic / Hebrew), white on a translucent dark box for legibility on phones,
 * bottom centre. Encoding -1 lets libass pick the base direction per line, so right-to-left text renders right.
 */
/**
 * Where captions may go, as fractions of the picture: the margin kept free at the bottom and at each side.
 * The default suits a plain picture; the release renders pass each platform's safe area (release.step.ts).
 */
export interface CaptionSafeArea {
  bottom: number;
  left: number;
  right: number;
}

export const DEFAULT_SAFE_AREA: CaptionSafeArea = { bottom: 0.07, left: 0.06, right: 0.06 };

export function toAss(cues: Cue[], video: { width: number; height: number }, safeArea: CaptionSafeArea = DEFAULT_SAFE_AREA): string {
  const fontSize = Math.round(Math.max(video.width, video.height) * (video.height > video.width ? 0.032 : 0.05));
  const margin = Math.round(video.height * safeArea.bottom);
  const left = Math.round(video.width * safeArea.left);
  const right = Math.round(video.width * safeArea.right);
  return [
    '[Script Info]',
    'ScriptType: v4.00+',
    `PlayResX: ${video.width}`,
    `PlayResY: ${video.height}`,
    'WrapStyle: 0',
    'ScaledBorderAndShadow: yes',
    '',
    '[V4+ Styles]',
    'Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding',
    `Style: Default,Noto Sans,${fontSize},&H00FFFFFF,&H00FFFFFF,&H80000000,&H80000000,1,0,0,0,100,100,0,0,3,${Math.max(2, Math.round(fontSize * 0.2))},0,2,${left},${right},${margin},-1`,
    '',
    '[Events]',
    'Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text',
    ...cues.map((c) => `Dialogue: 0,${assTime(c.startMs)},${assTime(c.endMs)},Default,,0,0,0,,${assText(c.text)}`),
    '',
  ].join('\n');
}

/**
 * Subtitle files of the upload limit's size (1 MiB) built to make a parser slow: long lines of unclosed
 * markup, endless timing lines, blank lines, tiny cues, one huge cue, in CRLF, CR and UTF-16 too. Each
 * says what the parser must answer: the line it refuses, or that it accepts. Used by the unit test, the
 * worker's integration test and `npm run bench:subtitles`.
 */

export const SUBTITLE_FILE_BYTES = 1024 * 1024;

export type HostileOutcome = { refusedAt: number; reason: RegExp } | 'accepted';

export interface HostileSubtitle {
  name: string;
  bytes: Buffer;
  outcome: HostileOutcome;
}

const CUE_HEAD = '1\n00:00:01,000 --> 00:00:02,000\n';

/** `unit` repeated (cut) to fill `bytes` after `head`. */
function fill(head: string, unit: string, bytes = SUBTITLE_FILE_BYTES): string {
  const room = bytes - Buffer.byteLength(head);
  return head + unit.repeat(Math.ceil(room / unit.length)).slice(0, room);
}

/** Cues made by `cue(n)` (n from 0) until the next would pass `bytes`. */
function cues(cue: (n: number) => string, bytes = SUBTITLE_FILE_BYTES): string {
  const parts: string[] = [];
  let size = 0;
  for (let n = 0; ; n += 1) {
    const next = cue(n);
    if (size + next.length > bytes) return parts.join('');
    parts.push(next);
    size += next.length;
  }
}

function clock(ms: number, separator = ','): string {
  const pad = (n: number, width = 2) => String(Math.floor(n)).padStart(width, '0');
  return `${pad(ms / 3_600_000)}:${pad((ms / 60_000) % 60)}:${pad((ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`;
}

const ascii = (text: string) => Buffer.from(text, 'utf8');
const utf16 = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
const longLine = (line: number) => ({ refusedAt: line, reason: /line is longer than 4000 characters/ });
const tooManyCues = (line: number) => ({ refusedAt: line, reason: /more than 5000 cues/ });
const cueTooLong = (line: number) => ({ refusedAt: line, reason: /the cue is too long/ });

/** A plain, valid SRT of about `bytes`: 4900 cues at most (5000 are allowed), of two ordinary lines each. */
export function plainSrt(bytes = SUBTITLE_FILE_BYTES): Buffer {
  const line = 'Salidarnasc z usimi, kago trymajuc za kratami za pracu i slova — my pamiatajem kozhnaha.';
  const cueBytes = Math.max(Math.ceil(bytes / 4900), 64);
  return ascii(cues((n) => {
    const head = `${n + 1}\n${clock(n * 2000)} --> ${clock(n * 2000 + 1500)}\n`;
    const text = (line + '\n' + line).slice(0, cueBytes - head.length - 3).trim();
    return `${head}${text}\n\n`;
  }, bytes));
}

export function hostileSubtitles(): HostileSubtitle[] {
  const blankCueLines = (text: string) => cues((n) => `${n + 1}\n${clock(n * 10)} --> ${clock(n * 10 + 5)}\n${text}\n\n`);
  const hugeCue = fill(CUE_HEAD, '{<&a\n');
  const tinyCue = (n: number) => `${clock(n * 10, '.')} --> ${clock(n * 10 + 5, '.')}\na\n\n`;
  const tinyCues = cues(tinyCue);
  // Line ends as Windows writes them, cut back to the size limit.
  const crlf = (text: string) => text.replace(/\n/g, '\r\n').slice(0, SUBTITLE_FILE_BYTES);
  return [
    { name: 'one line of "{"', bytes: ascii(fill(CUE_HEAD, '{')), outcome: longLine(3) },
    { name: 'one line of "<"', bytes: ascii(fill(CUE_HEAD, '<')), outcome: longLine(3) },
    { name: 'one line of "&"', bytes: ascii(fill(CUE_HEAD, '&')), outcome: longLine(3) },
    { name: 'one line of "{\\" pairs', bytes: ascii(fill(CUE_HEAD, '{\\')), outcome: longLine(3) },
    { name: 'one line of "<b" never closed', bytes: ascii(fill(CUE_HEAD, '<b')), outcome: longLine(3) },
    { name: 'one line of "{<" alternating', bytes: ascii(fill(CUE_HEAD, '{<')), outcome: longLine(3) },
    { name: 'the whole file one line of "{"', bytes: ascii(fill('', '{')), outcome: longLine(1) },
    // Unclosed markup that stays in the text, as much as a cue may hold: every cue is read to the end.
    { name: 'cues of 900 unclosed "<b"', bytes: ascii(blankCueLines('<b'.repeat(450))), outcome: 'accepted' },
    { name: 'cues of three lines of 300 unclosed "{"', bytes: ascii(blankCueLines(`${'{'.repeat(300)}\n`.repeat(3).trim())), outcome: 'accepted' },
    {
      name: 'one timing line of spaces ending in U+2028',
      bytes: ascii(`${fill(`1\n${clock(0)} --> ${clock(5)}`, ' ').slice(0, -4)}x\u2028`),
      outcome: longLine(2),
    },
    {
      name: 'timings of 4000 characters ending in spaces and U+2028',
      bytes: ascii(cues((n) => `${n + 1}\n${clock(n * 10)} --> ${clock(n * 10 + 5)}${' '.repeat(3966)}x\u2028\nHi\n\n`)),
      outcome: { refusedAt: 2, reason: /expected a timing/ },
    },
    { name: 'one line of "00:00:01,000 --> " repeated', bytes: ascii(fill('1\n', '00:00:01,000 --> ')), outcome: longLine(2) },
    {
      name: 'lines of "00:00:01,000 --> " repeated to 3995 characters',
      bytes: ascii(fill('1\n', `${'00:00:01,000 --> '.repeat(235)}\n`)),
      outcome: { refusedAt: 2, reason: /ends before it starts/ },
    },
    { name: 'lines of "-->"', bytes: ascii(fill('', '-->\n')), outcome: tooManyCues(5001) },
    { name: 'blank lines', bytes: ascii(fill('', '\n')), outcome: { refusedAt: 1, reason: /no subtitles found/ } },
    { name: 'blank lines, CRLF', bytes: ascii(fill('', '\r\n')), outcome: { refusedAt: 1, reason: /no subtitles found/ } },
    { name: `${Math.round(tinyCues.length / 33)} tiny cues`, bytes: ascii(`WEBVTT\n\n${tinyCues}`), outcome: tooManyCues(3 + 5000 * 3) },
    { name: 'tiny cues, CRLF', bytes: ascii(crlf(`WEBVTT\n\n${tinyCues}`)), outcome: tooManyCues(3 + 5000 * 3) },
    { name: 'tiny cues, CR', bytes: ascii(`WEBVTT\n\n${tinyCues}`.replace(/\n/g, '\r')), outcome: tooManyCues(3 + 5000 * 3) },
    { name: '100 000 tiny cues (3.1 MiB, past the upload limit)', bytes: ascii(`WEBVTT\n\n${cues(tinyCue, 100_000 * 33)}`), outcome: tooManyCues(3 + 5000 * 3) },
    { name: 'one huge cue of "{<&a" lines', bytes: ascii(hugeCue), outcome: cueTooLong(1) },
    { name: 'one huge cue, CRLF', bytes: ascii(crlf(hugeCue)), outcome: cueTooLong(1) },
    { name: 'one huge cue, CR', bytes: ascii(hugeCue.replace(/\n/g, '\r')), outcome: cueTooLong(1) },
    { name: 'one huge cue, UTF-16', bytes: utf16(hugeCue.slice(0, SUBTITLE_FILE_BYTES / 2 - 1)), outcome: cueTooLong(1) },
    { name: 'one line of "{", UTF-16', bytes: utf16(fill(CUE_HEAD, '{', SUBTITLE_FILE_BYTES / 2 - 1)), outcome: longLine(3) },
    {
      name: '5000 cues of markup at the limits',
      bytes: ascii(cues((n) => `${n + 1}\n${clock(n * 10)} --> ${clock(n * 10 + 5)}\n${'{\\an8}<b>x</b>&amp;<i'.repeat(9)}\n\n`)),
      outcome: 'accepted',
    },
  ];
}

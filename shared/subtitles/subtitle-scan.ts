/**
 * Hand-written scanners for the parts of subtitle parsing that regular expressions did in time growing
 * with the square of a line's length (`\{[^}]*\}` and `<[^>]*>` rescan to the end of the text from every
 * unclosed opener; the timing expression's `(?:\s+.*)?$` backtracks over a long run of spaces when a
 * U+2028/U+2029 follows). Each one reads its input once: linear in the length, whatever the input.
 * They match exactly what the expressions they replace matched.
 */

/** What JavaScript's `\s` matches (ECMAScript WhiteSpace and LineTerminator). */
export function isJsSpace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) || code === 0x20 || code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a)
    || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff
  );
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/**
 * Removes every `open … close` span, leftmost first, spans not nested — what `/\{[^}]*\}/g` (or
 * `/<[^>]*>/g`) replaced by '' removed. An opener with no closer after it stays, and so does everything
 * after it: no later opener can have a closer either, so the scan stops there.
 */
export function removeDelimited(text: string, open: string, close: string): string {
  let out = '';
  let from = 0;
  for (;;) {
    const start = text.indexOf(open, from);
    if (start < 0) break;
    const end = text.indexOf(close, start + 1);
    if (end < 0) break;
    out += text.slice(from, start);
    from = end + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** A run of ASCII digits from `at`: where it ends. */
function digitsEnd(line: string, at: number): number {
  let i = at;
  while (i < line.length && isDigit(line.charCodeAt(i))) i += 1;
  return i;
}

/**
 * Milliseconds of `(?:\d{1,3}:)?\d{1,2}:\d{2}[,.]\d{1,3}` read from `at`, or null; `next` is where it
 * ended. What follows each digit run in that expression (and after it in the timing line) is never a
 * digit, so the expression only matched whole runs: two or three of them, each of its width.
 */
function readTime(line: string, at: number): { ms: number; next: number; clock: boolean } | null {
  const runs: string[] = [];
  let i = at;
  for (;;) {
    const end = digitsEnd(line, i);
    if (end === i) return null;
    runs.push(line.slice(i, end));
    i = end;
    if (line[i] !== ':') break;
    if (runs.length === 3) return null;
    i += 1;
  }
  const widthsFit = runs.length === 3
    ? runs[0]!.length <= 3 && runs[1]!.length <= 2 && runs[2]!.length === 2
    : runs.length === 2 && runs[0]!.length <= 2 && runs[1]!.length === 2;
  if (!widthsFit || (line[i] !== ',' && line[i] !== '.')) return null;
  const fractionEnd = digitsEnd(line, i + 1);
  const fraction = line.slice(i + 1, fractionEnd);
  if (fraction.length < 1 || fraction.length > 3) return null;
  const [h = 0, m = 0, s = 0] = (runs.length === 3 ? runs : ['0', ...runs]).map(Number);
  // `clock`: minutes and seconds below 60, as a clock reads (files are read leniently; the editor is not).
  return { ms: ((h * 60 + m) * 60 + s) * 1000 + Number(fraction.padEnd(3, '0')), next: fractionEnd, clock: m < 60 && s < 60 };
}

/**
 * A cue timing line, "00:00:01,000 --> 00:00:02,500" (SRT) or "00:01.000 --> 00:02.000 align:start"
 * (WebVTT, hours optional, settings after a space), as the expression
 * `^\s*(T)\s*-->\s*(T)(?:\s+.*)?$` read it; null when it is not one.
 */
export function readTimingLine(line: string): { startMs: number; endMs: number } | null {
  let i = 0;
  while (i < line.length && isJsSpace(line.charCodeAt(i))) i += 1;
  const start = readTime(line, i);
  if (!start) return null;
  i = start.next;
  while (i < line.length && isJsSpace(line.charCodeAt(i))) i += 1;
  if (!line.startsWith('-->', i)) return null;
  i += 3;
  while (i < line.length && isJsSpace(line.charCodeAt(i))) i += 1;
  const end = readTime(line, i);
  if (!end) return null;
  // The rest is empty, or whitespace then anything `.` matches: no U+2028/U+2029 after the first non-space.
  const rest = end.next;
  if (rest < line.length) {
    if (!isJsSpace(line.charCodeAt(rest))) return null;
    let j = rest;
    while (j < line.length && isJsSpace(line.charCodeAt(j))) j += 1;
    for (; j < line.length; j += 1) {
      const code = line.charCodeAt(j);
      if (code === 0x2028 || code === 0x2029) return null;
    }
  }
  return { startMs: start.ms, endMs: end.ms };
}

/**
 * One cue time typed in the moderators' caption editor ("00:00:01.200", "01:02,5", hours optional): the
 * same form a timing line's times take, and nothing else around it but spaces; minutes and seconds below
 * 60 ("00:00:75.000" is a slip, not 1 min 15 s). Milliseconds, or null.
 */
export function readCueTime(text: string): number | null {
  let i = 0;
  while (i < text.length && isJsSpace(text.charCodeAt(i))) i += 1;
  const time = readTime(text, i);
  if (!time?.clock) return null;
  let j = time.next;
  while (j < text.length && isJsSpace(text.charCodeAt(j))) j += 1;
  return j === text.length ? time.ms : null;
}

import { readCueTime } from './subtitle-scan';
import { isBlankText, plainText, SUBTITLE_LIMITS, type Cue } from './subtitles';

/**
 * The moderators' caption edits (server/services/captions.service.ts): rows typed into the editor, or
 * cues read from an uploaded file, checked against the clip before they become a version. The same time
 * form, markup stripping and limits as an uploaded subtitle file (subtitles.ts), plus what an editor can
 * get wrong: an end not after its start, a cue past the clip's end, two cues overlapping. Pure.
 */

/** One row of the editor as sent: times as typed, the text with any markup it carries. */
export interface CueRow {
  start: string;
  end: string;
  text: string;
}

export type CueProblemCode =
  | 'time_format'
  | 'end_not_after_start'
  | 'beyond_duration'
  | 'overlap'
  | 'text_empty'
  | 'text_too_long'
  | 'too_many_lines'
  | 'no_cues'
  | 'too_many_cues';

/** A problem of one cue (`cue`: its number in the editor or the file, from 1; 0 for the whole set). */
export interface CueProblem {
  cue: number;
  code: CueProblemCode;
  field: 'start' | 'end' | 'text' | null;
  values: Record<string, string | number>;
}

export class CueEditError extends Error {
  constructor(readonly problems: CueProblem[]) {
    super(problems.map(describeProblem).join('; '));
    this.name = 'CueEditError';
  }
}

/** "00:01:02.500": how the editor shows a time (and reads it back). */
export function formatCueTime(ms: number): string {
  const pad = (n: number, width = 2) => String(Math.floor(n)).padStart(width, '0');
  return `${pad(ms / 3_600_000)}:${pad((ms / 60_000) % 60)}:${pad((ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
}

/** An English sentence for a problem (logs, API clients); the pages say it in the reader's language. */
export function describeProblem(problem: CueProblem): string {
  const v = problem.values;
  const cue = `cue ${problem.cue}`;
  switch (problem.code) {
    case 'time_format':
      return `${cue}: the ${String(problem.field)} "${String(v.value)}" is not a time like 00:00:01.500`;
    case 'end_not_after_start':
      return `${cue}: the end (${String(v.end)}) is not after the start (${String(v.start)})`;
    case 'beyond_duration':
      return `${cue}: the ${String(problem.field)} (${String(v.time)}) is past the end of the clip (${String(v.duration)})`;
    case 'overlap':
      return `${cue}: it starts (${String(v.start)}) before cue ${String(v.other)} ends (${String(v.otherEnd)})`;
    case 'text_empty':
      return `${cue}: there is no text (tick "remove" to drop the cue)`;
    case 'text_too_long':
      return `${cue}: the text is longer than ${String(v.max)} characters`;
    case 'too_many_lines':
      return `${cue}: the text has more than ${String(v.max)} lines`;
    case 'no_cues':
      return 'there are no cues with text';
    case 'too_many_cues':
      return `there are more than ${String(v.max)} cues`;
  }
}

/**
 * Checks a set of cues against the clip: each ends after it starts and within the clip, none overlaps
 * the next (after sorting by start; `numbers` are the cues' numbers as the person sees them). Throws a
 * CueEditError listing every problem; returns the cues sorted.
 */
export function checkCues(cues: Cue[], durationMs: number, numbers: number[] = cues.map((_, i) => i + 1)): Cue[] {
  const problems: CueProblem[] = [];
  if (cues.length === 0) throw new CueEditError([{ cue: 0, code: 'no_cues', field: null, values: {} }]);
  if (cues.length > SUBTITLE_LIMITS.maxCues) throw new CueEditError([{ cue: 0, code: 'too_many_cues', field: null, values: { max: SUBTITLE_LIMITS.maxCues } }]);
  const order = cues.map((cue, i) => ({ cue, number: numbers[i] ?? i + 1 })).sort((a, b) => a.cue.startMs - b.cue.startMs || a.number - b.number);
  const duration = formatCueTime(durationMs);
  order.forEach(({ cue, number }, i) => {
    if (cue.endMs <= cue.startMs) problems.push({ cue: number, code: 'end_not_after_start', field: 'end', values: { start: formatCueTime(cue.startMs), end: formatCueTime(cue.endMs) } });
    if (cue.startMs >= durationMs) problems.push({ cue: number, code: 'beyond_duration', field: 'start', values: { time: formatCueTime(cue.startMs), duration } });
    else if (cue.endMs > durationMs) problems.push({ cue: number, code: 'beyond_duration', field: 'end', values: { time: formatCueTime(cue.endMs), duration } });
    const before = order[i - 1];
    if (before && cue.startMs < before.cue.endMs) {
      problems.push({ cue: number, code: 'overlap', field: 'start', values: { start: formatCueTime(cue.startMs), other: before.number, otherEnd: formatCueTime(before.cue.endMs) } });
    }
  });
  if (problems.length > 0) throw new CueEditError(problems);
  return order.map((o) => o.cue);
}

/**
 * The editor's rows as cues: blank rows (nothing typed) are left out; times are read as in a subtitle
 * file; the text is stripped of markup as an upload's is. Throws a CueEditError with every problem found.
 */
export function cuesFromRows(rows: CueRow[], durationMs: number): Cue[] {
  const problems: CueProblem[] = [];
  const cues: Cue[] = [];
  const numbers: number[] = [];
  rows.forEach((row, i) => {
    const number = i + 1;
    if (row.start.trim() === '' && row.end.trim() === '' && row.text.trim() === '') return;
    const startMs = readCueTime(row.start);
    const endMs = readCueTime(row.end);
    if (startMs === null) problems.push({ cue: number, code: 'time_format', field: 'start', values: { value: row.start.slice(0, 40) } });
    if (endMs === null) problems.push({ cue: number, code: 'time_format', field: 'end', values: { value: row.end.slice(0, 40) } });
    const text = plainText(row.text.replace(/\r\n?/g, '\n'));
    const blank = isBlankText(text);
    if (blank) problems.push({ cue: number, code: 'text_empty', field: 'text', values: {} });
    else if (text.length > SUBTITLE_LIMITS.maxCueChars) problems.push({ cue: number, code: 'text_too_long', field: 'text', values: { max: SUBTITLE_LIMITS.maxCueChars } });
    else if (text.split('\n').length > SUBTITLE_LIMITS.maxLinesPerCue) problems.push({ cue: number, code: 'too_many_lines', field: 'text', values: { max: SUBTITLE_LIMITS.maxLinesPerCue } });
    if (startMs !== null && endMs !== null && !blank) {
      cues.push({ startMs, endMs, text });
      numbers.push(number);
    }
  });
  if (problems.length > 0) throw new CueEditError(problems);
  return checkCues(cues, durationMs, numbers);
}

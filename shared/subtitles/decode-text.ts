import chardet from 'chardet';

/**
 * Subtitle files arrive in whatever encoding the contributor's tool wrote: UTF-8 with or without BOM,
 * UTF-16, or a legacy code page (windows-1251, KOI8-R, windows-1250, Big5…). Decoding order:
 * BOM, then strict UTF-8, then legacy candidates — those usual for the clip's language first, then
 * what chardet guesses — scored by how much of the text is in the language's script.
 */

const LEGACY_BY_LANGUAGE: Record<string, string[]> = {
  cyrillic: ['windows-1251', 'koi8-r', 'koi8-u', 'ibm866', 'iso-8859-5'],
  greek: ['windows-1253', 'iso-8859-7'],
  hebrew: ['windows-1255', 'iso-8859-8'],
  arabic: ['windows-1256', 'iso-8859-6'],
  centralEuropean: ['windows-1250', 'iso-8859-2'],
  turkish: ['windows-1254', 'iso-8859-9'],
  chinese: ['gb18030', 'big5'],
  japanese: ['shift_jis', 'euc-jp'],
  korean: ['euc-kr'],
  latin: ['windows-1252'],
};

const SCRIPT_OF_LANGUAGE: Record<string, keyof typeof LEGACY_BY_LANGUAGE> = {
  be: 'cyrillic', ru: 'cyrillic', uk: 'cyrillic', bg: 'cyrillic', sr: 'cyrillic', mk: 'cyrillic', kk: 'cyrillic',
  ky: 'cyrillic', tg: 'cyrillic', mn: 'cyrillic', el: 'greek', he: 'hebrew', yi: 'hebrew', ar: 'arabic', fa: 'arabic',
  ur: 'arabic', pl: 'centralEuropean', cs: 'centralEuropean', sk: 'centralEuropean', hu: 'centralEuropean',
  ro: 'centralEuropean', hr: 'centralEuropean', sl: 'centralEuropean', bs: 'centralEuropean', tr: 'turkish',
  az: 'turkish', zh: 'chinese', ja: 'japanese', ko: 'korean',
};

const SCRIPT_PATTERN: Record<string, RegExp> = {
  cyrillic: /\p{Script=Cyrillic}/u,
  greek: /\p{Script=Greek}/u,
  hebrew: /\p{Script=Hebrew}/u,
  arabic: /\p{Script=Arabic}/u,
  chinese: /\p{Script=Han}/u,
  japanese: /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u,
  korean: /\p{Script=Hangul}/u,
  centralEuropean: /\p{Script=Latin}/u,
  turkish: /\p{Script=Latin}/u,
  latin: /\p{Script=Latin}/u,
};

// chardet names → WHATWG encoding labels that TextDecoder knows.
const CHARDET_LABELS: Record<string, string> = { 'ISO-8859-1': 'windows-1252', 'ISO-8859-9': 'windows-1254' };

/**
 * chardet reads this much of the file for its guesses (its statistics settle long before; over a whole
 * 1 MiB file it takes about a second). Every candidate is still decoded and scored on all the bytes.
 */
const CHARDET_SAMPLE_BYTES = 64 * 1024;

export class SubtitleEncodingError extends Error {}

function tryDecode(bytes: Uint8Array, label: string): string | null {
  try {
    return new TextDecoder(label, { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/**
 * More letters of the expected script, and among cased scripts more lowercase ones, is more plausible.
 * One pass over the text, each distinct character classified once (a legacy code page has at most 256):
 * the same score as matching the script's pattern over the whole text, without building an array of
 * a million one-letter strings per candidate encoding.
 */
function plausibility(text: string, script: string): number {
  const pattern = SCRIPT_PATTERN[script] ?? SCRIPT_PATTERN.latin!;
  const bmp = new Int8Array(0x10000).fill(-1);
  const astral = new Map<number, number>();
  const classify = (codePoint: number): number => {
    const char = String.fromCodePoint(codePoint);
    return pattern.test(char) ? (char !== char.toUpperCase() ? 2 : 1) : 0;
  };
  let score = 0;
  for (let i = 0; i < text.length; i += 1) {
    const codePoint = text.codePointAt(i)!;
    let points: number;
    if (codePoint > 0xffff) {
      i += 1;
      points = astral.get(codePoint) ?? classify(codePoint);
      astral.set(codePoint, points);
    } else {
      points = bmp[codePoint]!;
      if (points < 0) points = bmp[codePoint] = classify(codePoint);
    }
    // Letters count once, lowercase letters twice; C1 controls and U+FFFD betray a wrong code page.
    score += (codePoint >= 0x80 && codePoint <= 0x9f) || codePoint === 0xfffd ? points - 10 : points;
  }
  return score;
}

export function decodeSubtitleBytes(bytes: Buffer, language: string): { text: string; encoding: string } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'utf-8' };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: new TextDecoder('utf-16le').decode(bytes.subarray(2)), encoding: 'utf-16le' };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { text: new TextDecoder('utf-16be').decode(bytes.subarray(2)), encoding: 'utf-16be' };
  const utf8 = tryDecode(bytes, 'utf-8');
  if (utf8 !== null) return { text: utf8, encoding: 'utf-8' };

  const script = SCRIPT_OF_LANGUAGE[language.split('-')[0] ?? ''] ?? null;
  const guesses = chardet.analyse(bytes.subarray(0, CHARDET_SAMPLE_BYTES)).map((match) => CHARDET_LABELS[match.name] ?? match.name.toLowerCase());
  const candidates = [...new Set([...(script ? LEGACY_BY_LANGUAGE[script] ?? [] : []), ...guesses.slice(0, 3), 'windows-1252'])];
  let best: { text: string; encoding: string; score: number } | null = null;
  for (const encoding of candidates) {
    const text = tryDecode(bytes, encoding);
    if (text === null) continue;
    const score = script ? plausibility(text, script) : 0;
    if (!best || score > best.score) best = { text, encoding, score };
    if (!script) break; // no language hint: trust chardet's first decodable guess
  }
  if (!best) throw new SubtitleEncodingError('The subtitle file is in a text encoding we could not recognise. Please save it as UTF-8.');
  return { text: best.text, encoding: best.encoding };
}

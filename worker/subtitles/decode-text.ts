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
  cyrillic: /\p{Script=Cyrillic}/gu,
  greek: /\p{Script=Greek}/gu,
  hebrew: /\p{Script=Hebrew}/gu,
  arabic: /\p{Script=Arabic}/gu,
  chinese: /\p{Script=Han}/gu,
  japanese: /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/gu,
  korean: /\p{Script=Hangul}/gu,
  centralEuropean: /\p{Script=Latin}/gu,
  turkish: /\p{Script=Latin}/gu,
  latin: /\p{Script=Latin}/gu,
};

// chardet names → WHATWG encoding labels that TextDecoder knows.
const CHARDET_LABELS: Record<string, string> = { 'ISO-8859-1': 'windows-1252', 'ISO-8859-9': 'windows-1254' };

export class SubtitleEncodingError extends Error {}

function tryDecode(bytes: Uint8Array, label: string): string | null {
  try {
    return new TextDecoder(label, { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** More letters of the expected script, and among cased scripts more lowercase ones, is more plausible. */
function plausibility(text: string, script: string): number {
  const letters = text.match(SCRIPT_PATTERN[script] ?? SCRIPT_PATTERN.latin!) ?? [];
  const lower = letters.filter((c) => c !== c.toUpperCase()).length;
  const controls = (text.match(/[\u0080-\u009f\ufffd]/g) ?? []).length;
  return letters.length + lower - 10 * controls;
}

export function decodeSubtitleBytes(bytes: Buffer, language: string): { text: string; encoding: string } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'utf-8' };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: new TextDecoder('utf-16le').decode(bytes.subarray(2)), encoding: 'utf-16le' };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { text: new TextDecoder('utf-16be').decode(bytes.subarray(2)), encoding: 'utf-16be' };
  const utf8 = tryDecode(bytes, 'utf-8');
  if (utf8 !== null) return { text: utf8, encoding: 'utf-8' };

  const script = SCRIPT_OF_LANGUAGE[language.split('-')[0] ?? ''] ?? null;
  const guesses = chardet.analyse(bytes).map((match) => CHARDET_LABELS[match.name] ?? match.name.toLowerCase());
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

import { z } from 'zod';

/**
 * Contributor and staff text, cleaned once where it comes in (and again where a format cannot take it).
 *
 * - Characters XML 1.0 forbids — C0 controls other than tab, newline and carriage return, lone surrogates,
 *   U+FFFE and U+FFFF — and the other noncharacters (U+FDD0–FDEF, U+nFFFE/nFFFF): one of them in a title
 *   makes the Atom feed of a whole campaign unreadable for every team's reader.
 * - Bidirectional embeddings, overrides and isolates (U+202A–202E, U+2066–2069): an unbalanced one reverses
 *   the text after it on a page, in a subtitle or a post ("a release date read backwards"). Pages isolate
 *   contributor text as well (`<bdi>`, `dir="auto"`); stored text simply does not keep them.
 */

const XML_FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]|\p{Noncharacter_Code_Point}/gu;
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;
const C1_CONTROLS = /[\u007F-\u009F]/g;

/** Without the characters XML 1.0 cannot carry (and the noncharacters): for any text that may reach a feed. */
export function stripXmlForbidden(text: string): string {
  return text.replace(XML_FORBIDDEN, '');
}

/** Without bidirectional embeddings, overrides and isolates (marks — LRM, RLM, ALM — are kept). */
export function stripBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, '');
}

/**
 * Text as stored: NFC, without XML-forbidden characters, C1 controls or bidi controls. Newlines and tabs
 * are kept (a message has paragraphs); single-line fields strip them on their own.
 */
export function cleanText(text: string): string {
  return stripBidiControls(stripXmlForbidden(text.normalize('NFC'))).replace(C1_CONTROLS, '');
}

/** A string field of a form or API body, cleaned (`cleanText`) and trimmed before its length is checked. */
export function cleanString(min: number, max: number) {
  return z.string().transform(cleanText).pipe(z.string().trim().min(min).max(max));
}

/**
 * Text put into a sentence of the page (a message's `{placeholder}`), isolated as `<bdi>` would: whatever
 * direction it has stays inside, and the sentence after it reads as written (FSI … PDI).
 */
export function isolate(text: string): string {
  return `\u2068${text}\u2069`;
}

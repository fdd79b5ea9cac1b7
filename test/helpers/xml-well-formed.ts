/**
 * A strict XML 1.0 well-formedness check (no DTDs: the project never writes one), for the feeds the tests
 * read: what a feed reader's parser would refuse, this refuses too. Returns the problems (empty when the
 * document is well-formed): characters XML forbids (also as character references), unknown entities, a bare
 * `&` or `<`, bad names, unquoted or repeated attributes, tags that do not match, text outside the root.
 */

const CHAR = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
const NAME_START = 'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
// XML's NameChar includes the combining marks U+0300–036F: the class is what the specification says.
// eslint-disable-next-line no-misleading-character-class
const NAME = new RegExp(`^[:${NAME_START}][:${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040]*`, 'u');
const PREDEFINED = new Set(['lt', 'gt', 'amp', 'apos', 'quot']);

function allowedCodePoint(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** References in text or an attribute value: each `&` starts a predefined entity or a character reference to an allowed character. */
function checkReferences(text: string, where: string, problems: string[]): void {
  for (let at = text.indexOf('&'); at !== -1; at = text.indexOf('&', at + 1)) {
    const reference = /^&(?:#x([0-9a-fA-F]+)|#([0-9]+)|([^;\s&<]+));/.exec(text.slice(at, at + 40));
    if (!reference) {
      problems.push(`${where}: a bare "&"`);
      continue;
    }
    if (reference[3] !== undefined) {
      if (!PREDEFINED.has(reference[3])) problems.push(`${where}: the unknown entity "&${reference[3]};"`);
    } else {
      const cp = reference[1] !== undefined ? parseInt(reference[1], 16) : Number(reference[2]);
      if (!allowedCodePoint(cp)) problems.push(`${where}: a reference to a character XML forbids (${reference[0]})`);
    }
  }
}

export function xmlProblems(document: string): string[] {
  const problems: string[] = [];
  if (!CHAR.test(document)) {
    const bad = [...document].find((c) => !allowedCodePoint(c.codePointAt(0)!));
    problems.push(`a character XML forbids: U+${(bad ?? '').codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0') ?? '?'}`);
    return problems;
  }
  let at = 0;
  const stack: string[] = [];
  let roots = 0;
  if (document.startsWith('<?xml')) {
    const end = document.indexOf('?>');
    if (end === -1 || !/^<\?xml\s+version="1\.[0-9]"(\s+encoding="[A-Za-z][\w.-]*")?(\s+standalone="(yes|no)")?\s*\?>$/.test(document.slice(0, end + 2))) problems.push('a malformed XML declaration');
    at = end === -1 ? document.length : end + 2;
  }
  while (at < document.length) {
    const lt = document.indexOf('<', at);
    const text = document.slice(at, lt === -1 ? document.length : lt);
    if (text.includes(']]>')) problems.push('"]]>" in text');
    if (stack.length === 0 && text.trim() !== '') problems.push(`text outside the root element: ${JSON.stringify(text.slice(0, 40))}`);
    checkReferences(text, 'text', problems);
    if (lt === -1) break;
    at = lt;
    if (document.startsWith('<!--', at)) {
      const end = document.indexOf('-->', at + 4);
      if (end === -1 || document.slice(at + 4, end).includes('--')) problems.push('a malformed comment');
      at = end === -1 ? document.length : end + 3;
      continue;
    }
    if (document.startsWith('<![CDATA[', at)) {
      if (stack.length === 0) problems.push('CDATA outside the root element');
      const end = document.indexOf(']]>', at);
      if (end === -1) problems.push('an unclosed CDATA section');
      at = end === -1 ? document.length : end + 3;
      continue;
    }
    if (document.startsWith('<?', at)) {
      const end = document.indexOf('?>', at);
      const target = NAME.exec(document.slice(at + 2))?.[0];
      if (end === -1 || !target || /^xml$/i.test(target)) problems.push('a malformed processing instruction');
      at = end === -1 ? document.length : end + 2;
      continue;
    }
    if (document.startsWith('<!', at)) {
      problems.push('a declaration (<!…>): not expected in a feed');
      return problems;
    }
    const closing = document[at + 1] === '/';
    const name = NAME.exec(document.slice(at + (closing ? 2 : 1)))?.[0];
    if (!name) {
      problems.push(`a bare "<" at ${at}`);
      at += 1;
      continue;
    }
    at += (closing ? 2 : 1) + name.length;
    if (closing) {
      const end = /^\s*>/.exec(document.slice(at));
      if (!end) problems.push(`a malformed end tag </${name}`);
      at += end ? end[0].length : 0;
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? 'nothing'}>`);
      continue;
    }
    // Attributes, then > or />.
    const seen = new Set<string>();
    for (;;) {
      const rest = document.slice(at, at + 4096);
      const end = /^\s*(\/?)>/.exec(rest);
      if (end) {
        at += end[0].length;
        if (stack.length === 0) roots += 1;
        if (end[1] !== '/') stack.push(name);
        break;
      }
      // eslint-disable-next-line no-misleading-character-class -- the NAME class above
      const attribute = new RegExp(`^\\s+(${NAME.source.slice(1)})\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'u').exec(rest);
      if (!attribute) {
        problems.push(`a malformed attribute in <${name}>`);
        return problems;
      }
      const [whole, attributeName = '', double, single] = attribute;
      const value = double ?? single ?? '';
      if (seen.has(attributeName)) problems.push(`the attribute ${attributeName} twice in <${name}>`);
      seen.add(attributeName);
      if (value.includes('<')) problems.push(`a "<" in the attribute ${attributeName} of <${name}>`);
      checkReferences(value, `the attribute ${attributeName} of <${name}>`, problems);
      at += whole.length;
    }
  }
  if (stack.length > 0) problems.push(`unclosed: <${stack.join('>, <')}>`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}

/** Throws with every problem when the document is not well-formed XML. */
export function expectWellFormedXml(document: string): void {
  const problems = xmlProblems(document);
  if (problems.length > 0) throw new Error(`not well-formed XML:\n  ${problems.join('\n  ')}`);
}

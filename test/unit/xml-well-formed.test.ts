import { xmlProblems } from '../helpers/xml-well-formed';

/** The checker the feed tests rely on: it must refuse what an XML parser refuses. */
describe('the well-formedness check of the tests', () => {
  const wrap = (inner: string) => `<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">${inner}</feed>\n`;

  test('when a document is well-formed, then it finds nothing', () => {
    expect(xmlProblems(wrap('<title a="1" b=\'&amp;&lt;\'>Vid &amp; &#x1F600; &#10; 😀 ‮</title><link href="x"/><!-- c --><![CDATA[<raw>]]>'))).toEqual([]);
  });

  test.each([
    ['U+FFFE', wrap('<title>a\uFFFEb</title>')],
    ['U+FFFF', wrap('<title>a\uFFFF</title>')],
    ['a C0 control', wrap('<title>a\u0001</title>')],
    ['a lone surrogate', wrap('<title>a\uD800</title>')],
    ['a reference to U+FFFE', wrap('<title>&#xFFFE;</title>')],
    ['a reference to NUL', wrap('<title>&#0;</title>')],
    ['a bare &', wrap('<title>A & B</title>')],
    ['an unknown entity', wrap('<title>&nbsp;</title>')],
    ['a bare <', wrap('<title>a < b</title>')],
    ['a < in an attribute', wrap('<link href="a<b"/>')],
    ['an unquoted attribute', wrap('<link href=x/>')],
    ['a repeated attribute', wrap('<link href="a" href="b"/>')],
    ['mismatched tags', wrap('<title>a</name>')],
    ['an unclosed tag', wrap('<title>a')],
    ['text after the root', `${wrap('')}x`],
    ['two roots', `${wrap('')}<feed/>`],
    ['a forbidden character in an attribute', wrap('<link title="a\uFFFF"/>')],
  ])('when a document has %s, then it is refused', (_what, document) => {
    expect(xmlProblems(document)).not.toEqual([]);
  });
});

import { colourIssues, contrastRatio, themeCss } from '../../server/services/campaign-branding';
import { checkLogo, LOGO_MAX_BYTES } from '../../server/services/campaign-logo';
import { structureProblems } from '../helpers/image-structure';
import { makePng, makeWebpWithMetadata, SVG_LOGO } from '../helpers/images';

describe('campaign colours', () => {
  test('when the contrast ratio is computed, then it matches WCAG for known pairs', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrastRatio('#ffffff', '#ffffff')).toBeCloseTo(1, 5);
    // #767676 on white is the classic 4.54:1.
    expect(contrastRatio('#767676', '#ffffff')).toBeCloseTo(4.54, 2);
  });

  test.each([
    [{ accentColour: '#a3001a' }, []],
    [{ accentColour: '#0b5394', backgroundColour: '#ffffff' }, []],
    [{ accentColour: '#ffcc00' }, ['accentColour']], // white on yellow, yellow links on the page
    [{ backgroundColour: '#202020' }, ['backgroundColour']], // dark text on a dark page
    [{ accentColour: '#0b5394', backgroundColour: '#0b5394' }, ['accentColour', 'backgroundColour']], // links vanish, text is unreadable
    [{ accentColour: '#6fa8dc', backgroundColour: '#ffffff' }, ['accentColour']], // pale blue: white on it, and it on white
    [{ accentColour: 'red' }, ['accentColour']],
    [{ backgroundColour: '#fff' }, ['backgroundColour']],
    [{ accentColour: null, backgroundColour: null }, []],
  ])('when the colours are %j, then the fields refused are %j', (colours, fields) => {
    const issues = colourIssues(colours);
    expect([...new Set(issues.map((i) => i.field))]).toEqual(fields);
    for (const issue of issues) expect(issue.message).toMatch(/contrast .*:1|not a colour/);
  });

  test('when a campaign has colours, then its stylesheet sets the page variables; without, it is empty', () => {
    expect(themeCss({ accentColour: '#0B5394', backgroundColour: null })).toBe(':root { --accent: #0b5394; }\n');
    expect(themeCss({ accentColour: null, backgroundColour: null })).toBe('');
    expect(themeCss(undefined)).toBe('');
    // Anything that is not a checked colour never reaches the stylesheet.
    expect(themeCss({ accentColour: 'red;} body{display:none', backgroundColour: null })).toBe('');
  });
});

describe('campaign logos', () => {
  test('when a PNG carries a text chunk, then it is accepted with its size, and the chunk is removed', async () => {
    const png = makePng(40, 20, { text: 'GPS 53.9,27.56 secret' });
    const checked = await checkLogo(png);
    expect([checked.contentType, checked.width, checked.height]).toEqual(['image/png', 40, 20]);
    expect(png.includes('secret')).toBe(true);
    expect(checked.body.includes('secret')).toBe(false);
    expect(checked.body.includes('IDAT')).toBe(true);
  });

  test('when a lossless WebP carries EXIF and XMP, then both are removed, and it is stored as a bare PNG', async () => {
    const checked = await checkLogo(await makeWebpWithMetadata(300, 100, 'phone-serial-123'));
    expect([checked.contentType, checked.width, checked.height]).toEqual(['image/png', 300, 100]);
    expect(checked.body.includes('phone-serial-123')).toBe(false);
    expect(structureProblems(checked.body)).toEqual([]);
  });

  const refusals: Array<[string, Buffer, string, RegExp]> = [
    ['an SVG', SVG_LOGO, 'logo_unsupported_type', /SVG .*script/],
    ['an SVG without an XML declaration', Buffer.from('  <svg xmlns="http://www.w3.org/2000/svg"/>'), 'logo_unsupported_type', /SVG/],
    ['a text file', Buffer.from('hello, this is not an image'), 'logo_unsupported_type', /not a PNG, JPEG or WebP/],
    ['a GIF', Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'), 'logo_unsupported_type', /not a PNG, JPEG or WebP/],
    ['a PNG cut short', makePng(10, 10).subarray(0, 40), 'logo_invalid', /damaged/],
    ['a JPEG start and nothing else', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00]), 'logo_invalid', /damaged/],
    ['an empty file', Buffer.alloc(0), 'logo_missing', /Choose an image/],
    ['a file over the size limit', Buffer.concat([makePng(10, 10), Buffer.alloc(LOGO_MAX_BYTES)]), 'logo_too_large', /too large/],
    ['a PNG of 5000 pixels across', makePng(5000, 1), 'logo_too_large', /at most 2048/],
  ];
  test.each(refusals.map(([what, bytes, code, message]) => ({ what, bytes, code, message })))('when the logo is $what, then it is refused with $code', async ({ bytes, code, message }) => {
    await expect(checkLogo(bytes)).rejects.toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });
});

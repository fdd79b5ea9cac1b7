import type { CampaignBranding } from '../../shared/models/campaign.model';

/**
 * A campaign's look on the contributors' page, checked: colours (hex, and readable: WCAG contrast of at
 * least 4.5:1 for every text the colour is put behind or under) and the stylesheet they become. Pure.
 * The logo's checks are in campaign-logo.ts.
 */

export const HEX_COLOUR = /^#[0-9a-fA-F]{6}$/;
export const MIN_CONTRAST = 4.5;

/** The page's own colours (contrib-styles.ts): dark text, muted text, white boxes. */
export const PAGE_COLOURS = { ink: '#16161a', muted: '#4d4d57', white: '#ffffff', accent: '#a3001a', background: '#fbfbfd' } as const;

function channel(value: number): number {
  const c = value / 255;
  return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** WCAG 2 relative luminance of `#rrggbb`. */
export function luminance(hex: string): number {
  const n = Number.parseInt(hex.slice(1), 16);
  return 0.2126 * channel((n >> 16) & 255) + 0.7152 * channel((n >> 8) & 255) + 0.0722 * channel(n & 255);
}

/** WCAG 2 contrast ratio between two `#rrggbb` colours (1 … 21). */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

export interface ColourIssue {
  field: 'accentColour' | 'backgroundColour';
  message: string;
}

/**
 * Every pair of colours the page puts together with a chosen colour, checked: white button text on the
 * accent, accent links on the background, dark and muted text on the background. A colour not set is
 * the page's own.
 */
export function colourIssues(colours: { accentColour?: string | null; backgroundColour?: string | null }): ColourIssue[] {
  const issues: ColourIssue[] = [];
  for (const field of ['accentColour', 'backgroundColour'] as const) {
    const value = colours[field];
    if (value != null && !HEX_COLOUR.test(value)) issues.push({ field, message: `"${value}" is not a colour: write it as #rrggbb, e.g. #a3001a` });
  }
  if (issues.length) return issues;
  const accent = colours.accentColour ?? PAGE_COLOURS.accent;
  const background = colours.backgroundColour ?? PAGE_COLOURS.background;
  const pairs: Array<[ColourIssue['field'], string, string, string]> = [
    ['accentColour', PAGE_COLOURS.white, accent, 'white button text on the accent colour'],
    ['accentColour', accent, background, 'links in the accent colour on the background'],
    ['backgroundColour', PAGE_COLOURS.ink, background, 'text on the background'],
    ['backgroundColour', PAGE_COLOURS.muted, background, 'help text (grey) on the background'],
  ];
  if (colours.accentColour == null && colours.backgroundColour == null) return issues;
  for (const [field, fore, back, what] of pairs) {
    const ratio = contrastRatio(fore, back);
    if (ratio >= MIN_CONTRAST) continue;
    // The pair's own colour is blamed when the admin chose it, else the other one (the page's own pairs pass).
    const blamed = colours[field] != null ? field : field === 'accentColour' ? 'backgroundColour' : 'accentColour';
    issues.push({ field: blamed, message: `too little contrast for ${what}: ${ratio.toFixed(2)}:1 (${fore} on ${back}); at least ${MIN_CONTRAST}:1 is needed to be readable` });
  }
  return issues;
}

/** The campaign's stylesheet (served beside the page's own, after it): empty when the campaign keeps the page's colours. */
export function themeCss(branding: Pick<CampaignBranding, 'accentColour' | 'backgroundColour'> | undefined): string {
  const rules: string[] = [];
  if (branding?.accentColour && HEX_COLOUR.test(branding.accentColour)) rules.push(`--accent: ${branding.accentColour.toLowerCase()};`);
  if (branding?.backgroundColour && HEX_COLOUR.test(branding.backgroundColour)) rules.push(`--bg: ${branding.backgroundColour.toLowerCase()};`);
  return rules.length ? `:root { ${rules.join(' ')} }\n` : '';
}

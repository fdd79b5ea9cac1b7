import { COUNTRY_TILES, GRID, tileOf } from '../../../shared/reports/country-tiles';

/**
 * The world map of actions by country, drawn here as SVG (issue 18): one square per country
 * (shared/reports/country-tiles.ts), shaded by its count, with the code written on it and a <title> that
 * says code and count. No geometry, no tiles or scripts from elsewhere, nothing inline that the CSP forbids
 * (presentation attributes only). Codes come from stored, validated values; text is escaped by the renderer.
 */

const CELL = 16;
const SHADES: Array<{ fill: string; ink: string }> = [
  { fill: '#e4e4ea', ink: '#4d4d57' },
  { fill: '#f6c7ce', ink: '#16161a' },
  { fill: '#e58797', ink: '#16161a' },
  { fill: '#b3213c', ink: '#ffffff' },
  { fill: '#6e0014', ink: '#ffffff' },
];

/** The shade of a count: 0, then four steps up to the largest count. */
export function shadeOf(n: number, most: number): number {
  if (n <= 0) return 0;
  if (most <= 1) return 4;
  return Math.min(4, 1 + Math.floor(((n - 1) / (most - 1)) * 3.999));
}

export function ReportMap(props: { counts: Array<[string, number]>; title: string; label: (code: string, n: number) => string; id: string }) {
  const counts = new Map(props.counts);
  const most = Math.max(0, ...counts.values());
  const used = [...COUNTRY_TILES.values()];
  const rows = Math.max(...used.map((t) => t.row)) + 1;
  const unknown = [...counts.keys()].filter((code) => !tileOf(code)).sort();
  const height = (rows + (unknown.length > 0 ? 1 + Math.ceil(unknown.length / GRID.cols) : 0)) * CELL;
  const tile = (code: string, col: number, row: number) => {
    const n = counts.get(code) ?? 0;
    const shade = SHADES[shadeOf(n, most)]!;
    return (
      <g data-country={code} data-count={n}>
        <title>{props.label(code, n)}</title>
        <rect x={col * CELL + 1} y={row * CELL + 1} width={CELL - 2} height={CELL - 2} rx={2} fill={shade.fill} />
        <text x={col * CELL + CELL / 2} y={row * CELL + CELL / 2 + 2.5} font-size={6.5} font-family="system-ui, sans-serif" text-anchor="middle" fill={shade.ink}>
          {code}
        </text>
      </g>
    );
  };
  return (
    <svg viewBox={`0 0 ${GRID.cols * CELL} ${height}`} role="img" aria-labelledby={`${props.id}-title`} xmlns="http://www.w3.org/2000/svg" data-testid="report-map">
      <title id={`${props.id}-title`}>{props.title}</title>
      {used.map((t) => tile(t.code, t.col, t.row))}
      {unknown.map((code, i) => tile(code, i % GRID.cols, rows + 1 + Math.floor(i / GRID.cols)))}
    </svg>
  );
}

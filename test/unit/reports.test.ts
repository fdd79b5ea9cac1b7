import { csvCell } from '../../server/services/report-dashboard.service';
import { actionKindLabel, DEFAULT_ACTION_KINDS, isCalendarDate } from '../../shared/reports/action-kinds';
import { COUNTRY_TILES, GRID, tileOf } from '../../shared/reports/country-tiles';
import { canMove, REPORT_STATES, REPORT_TRANSITIONS } from '../../shared/reports/report-states';
import { tallyIncrement } from '../../shared/reports/report-tally';
import { shadeOf } from '../../server/web/public/report-map';

describe('action reports, the pure parts', () => {
  test('when a report is counted or taken back, then the tally changes by exactly its fields', () => {
    const what = { date: '2027-03-27', kind: 'letter', country: 'BY', hour: '09', photos: 3 };
    expect(tallyIncrement(what, 1)).toEqual({ actions: 1, photos: 3, 'kinds.letter': 1, 'countries.BY': 1, 'hours.09': 1 });
    expect(tallyIncrement(what, -1)).toEqual({ actions: -1, photos: -3, 'kinds.letter': -1, 'countries.BY': -1, 'hours.09': -1 });
    expect(() => tallyIncrement({ ...what, kind: '__proto__' }, 1)).toThrow();
    expect(() => tallyIncrement({ ...what, country: 'a.b' }, 1)).toThrow();
  });

  test('when a move is asked from a state, then only the table decides', () => {
    expect(canMove('approve', 'in_review')).toBe(true);
    expect(canMove('approve', 'receiving')).toBe(false);
    expect(canMove('withdraw', 'withdrawn')).toBe(false);
    for (const state of REPORT_STATES.filter((s) => s !== 'withdrawn')) expect(canMove('withdraw', state)).toBe(true);
    for (const move of Object.values(REPORT_TRANSITIONS)) expect(REPORT_STATES).toContain(move.to);
  });

  test('when a day is checked, then only real calendar dates pass', () => {
    expect(isCalendarDate('2027-03-27')).toBe(true);
    expect(isCalendarDate('2027-02-30')).toBe(false);
    expect(isCalendarDate('27.03.2027')).toBe(false);
  });

  test('when a kind is named, then in the language asked, else English, else its id', () => {
    expect(actionKindLabel(DEFAULT_ACTION_KINDS, 'letter', 'be')).toBe('Ліст або петыцыя');
    expect(actionKindLabel(DEFAULT_ACTION_KINDS, 'letter', 'de')).toBe('Letter or petition');
    expect(actionKindLabel(DEFAULT_ACTION_KINDS, 'unknown_kind', 'en')).toBe('unknown_kind');
  });

  test('when the map is laid out, then every listed country has a cell of its own inside the grid', () => {
    const cells = new Set([...COUNTRY_TILES.values()].map((t) => `${t.row}:${t.col}`));
    expect(cells.size).toBe(COUNTRY_TILES.size);
    expect(COUNTRY_TILES.size).toBeGreaterThan(190);
    for (const t of COUNTRY_TILES.values()) expect(t.col >= 0 && t.col < GRID.cols && t.row >= 0 && t.row < GRID.rows).toBe(true);
    // Rough geography holds: Belarus not south of Ukraine, west of Russia; Brazil south of the United States.
    expect(tileOf('BY')!.row).toBeLessThanOrEqual(tileOf('UA')!.row);
    expect(tileOf('BY')!.col).toBeLessThan(tileOf('RU')!.col);
    expect(tileOf('BR')!.row).toBeGreaterThan(tileOf('US')!.row);
    expect(tileOf('ZZ')).toBeNull();
    expect([0, 1, 2, 5, 10].map((n) => shadeOf(n, 10))).toEqual([0, 1, 1, 2, 4]);
  });

  test('when a cell of the export starts like a formula, then a spreadsheet reads it as text', () => {
    expect(csvCell('=1+1')).toBe(`"'=1+1"`);
    expect(csvCell('@SUM(A1)')).toBe(`"'@SUM(A1)"`);
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell(null)).toBe('""');
  });
});

/**
 * A world map without geometry (issue 18): each country is one square tile placed near its rough centre
 * (latitude, longitude in whole degrees, written here from general knowledge — no shapes, no third-party
 * tiles or scripts). Tiles are laid on a grid of 6° cells; where a cell is taken (Europe is crowded), the
 * country takes the nearest free cell, larger countries first, so every country has a tile and the map keeps
 * the world's rough shape. A code not listed goes to a row of its own below the map. Pure: unit-tested.
 */

const CENTRES: Record<string, [number, number]> = {
  // Europe
  IS: [65, -18], IE: [53, -8], GB: [54, -2], PT: [40, -8], ES: [40, -4], FR: [46, 2], BE: [51, 4], NL: [52, 5], LU: [50, 6],
  DE: [51, 10], CH: [47, 8], AT: [47, 14], IT: [43, 12], MT: [36, 14], DK: [56, 10], NO: [62, 10], SE: [62, 15], FI: [64, 26],
  EE: [59, 25], LV: [57, 25], LT: [55, 24], PL: [52, 19], CZ: [50, 15], SK: [49, 19], HU: [47, 19], SI: [46, 15], HR: [45, 16],
  BA: [44, 18], RS: [44, 21], ME: [43, 19], AL: [41, 20], MK: [41, 22], GR: [39, 22], BG: [43, 25], RO: [46, 25], MD: [47, 29],
  UA: [49, 32], BY: [53, 28], RU: [60, 90], CY: [35, 33], XK: [42, 21], AD: [42, 1], MC: [44, 7], SM: [44, 12], LI: [47, 9], VA: [42, 12],
  // Caucasus, Middle East, Central and South Asia
  GE: [42, 43], AM: [40, 45], AZ: [40, 48], TR: [39, 35], SY: [35, 38], LB: [34, 36], IL: [31, 35], PS: [32, 35], JO: [31, 36],
  IQ: [33, 44], IR: [32, 53], SA: [24, 45], KW: [29, 48], BH: [26, 50], QA: [25, 51], AE: [24, 54], OM: [21, 57], YE: [15, 48],
  KZ: [48, 67], UZ: [41, 64], TM: [39, 59], KG: [41, 75], TJ: [39, 71], AF: [34, 66], PK: [30, 70], IN: [22, 79], NP: [28, 84],
  BT: [27, 90], BD: [24, 90], LK: [8, 81], MV: [3, 73],
  // East and South-East Asia, Oceania
  CN: [35, 103], MN: [47, 104], KP: [40, 127], KR: [36, 128], JP: [36, 138], TW: [24, 121], HK: [22, 114], MO: [22, 114],
  MM: [21, 96], TH: [15, 101], LA: [18, 103], VN: [16, 107], KH: [13, 105], MY: [4, 102], SG: [1, 104], ID: [-2, 118],
  PH: [12, 122], BN: [5, 115], TL: [-9, 126], PG: [-6, 145], AU: [-25, 134], NZ: [-41, 174], FJ: [-18, 178], SB: [-9, 160],
  VU: [-16, 167], WS: [-14, -172], TO: [-21, -175], KI: [1, 173], NR: [-1, 167], TV: [-8, 178], FM: [7, 158], MH: [7, 171], PW: [7, 134],
  // Africa
  MA: [32, -6], DZ: [28, 3], TN: [34, 9], LY: [27, 17], EG: [27, 30], SD: [15, 30], SS: [7, 30], ET: [9, 40], ER: [15, 39],
  DJ: [12, 43], SO: [6, 46], KE: [0, 38], UG: [1, 32], RW: [-2, 30], BI: [-3, 30], TZ: [-6, 35], MZ: [-18, 35], MW: [-13, 34],
  ZM: [-14, 28], ZW: [-19, 30], BW: [-22, 24], NA: [-22, 17], ZA: [-29, 25], LS: [-30, 28], SZ: [-26, 31], MG: [-19, 47],
  MU: [-20, 57], KM: [-12, 44], SC: [-5, 55], AO: [-12, 18], CD: [-3, 23], CG: [-1, 15], GA: [-1, 12], GQ: [2, 10], CM: [6, 12],
  CF: [7, 21], TD: [15, 19], NE: [17, 8], NG: [9, 8], BJ: [9, 2], TG: [8, 1], GH: [8, -1], CI: [8, -5], BF: [12, -2], ML: [17, -4],
  MR: [20, -10], SN: [14, -14], GM: [13, -15], GW: [12, -15], GN: [10, -11], SL: [8, -12], LR: [6, -9], CV: [16, -24], ST: [0, 7], EH: [24, -13],
  // Americas
  CA: [60, -100], US: [39, -98], MX: [23, -102], GT: [15, -90], BZ: [17, -88], SV: [14, -89], HN: [15, -87], NI: [13, -85],
  CR: [10, -84], PA: [9, -80], CU: [22, -79], JM: [18, -77], HT: [19, -72], DO: [19, -70], PR: [18, -66], BS: [24, -76],
  TT: [10, -61], BB: [13, -59], LC: [14, -61], VC: [13, -61], GD: [12, -62], AG: [17, -62], DM: [15, -61], KN: [17, -63],
  CO: [4, -73], VE: [7, -66], GY: [5, -59], SR: [4, -56], EC: [-2, -78], PE: [-10, -76], BR: [-10, -52], BO: [-17, -65],
  PY: [-23, -58], UY: [-33, -56], AR: [-35, -65], CL: [-33, -71], GL: [72, -40],
};

/** Larger countries first: they keep their own cell; the small ones around them move. */
const FIRST = ['RU', 'CA', 'US', 'CN', 'BR', 'AU', 'IN', 'AR', 'KZ', 'DZ', 'CD', 'GL', 'SA', 'MX', 'ID', 'SD', 'LY', 'IR', 'MN', 'PE'];

export const CELL_DEGREES = 6;
export const GRID = { cols: 360 / CELL_DEGREES, rows: Math.ceil(160 / CELL_DEGREES) };

export interface Tile {
  code: string;
  col: number;
  row: number;
}

function layOut(): Map<string, Tile> {
  const taken = new Set<string>();
  const tiles = new Map<string, Tile>();
  const codes = [...FIRST, ...Object.keys(CENTRES).filter((c) => !FIRST.includes(c)).sort()];
  for (const code of codes) {
    const [lat, lon] = CENTRES[code]!;
    const col0 = Math.min(GRID.cols - 1, Math.max(0, Math.floor((lon + 180) / CELL_DEGREES)));
    const row0 = Math.min(GRID.rows - 1, Math.max(0, Math.floor((80 - lat) / CELL_DEGREES)));
    // The nearest free cell: rings of growing distance, nearest first, then by row, then by column.
    let placed: Tile | null = null;
    for (let ring = 0; ring < 20 && !placed; ring += 1) {
      const ringCells: Array<[number, number, number]> = [];
      for (let dr = -ring; dr <= ring; dr += 1) {
        for (let dc = -ring; dc <= ring; dc += 1) {
          if (Math.max(Math.abs(dr), Math.abs(dc)) !== ring) continue;
          const row = row0 + dr;
          const col = col0 + dc;
          if (row < 0 || row >= GRID.rows || col < 0 || col >= GRID.cols || taken.has(`${row}:${col}`)) continue;
          ringCells.push([dr * dr + dc * dc, row, col]);
        }
      }
      ringCells.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
      if (ringCells[0]) placed = { code, row: ringCells[0][1], col: ringCells[0][2] };
    }
    if (!placed) continue;
    taken.add(`${placed.row}:${placed.col}`);
    tiles.set(code, placed);
  }
  return tiles;
}

export const COUNTRY_TILES: ReadonlyMap<string, Tile> = layOut();

/** A country's tile; null for a code the map does not know (shown in a row of its own). */
export function tileOf(code: string): Tile | null {
  return COUNTRY_TILES.get(code) ?? null;
}

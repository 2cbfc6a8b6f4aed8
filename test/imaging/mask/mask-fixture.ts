// Builds small binary masks from ASCII art for tests: '#' = 1, '.' = 0, one string per row.
import type { BinaryMask } from "../../../imaging/mask/binary-mask.ts";

/** A mask from rows of '#' (foreground) and '.' (background); all rows must have the same length. */
export function maskFromRows(rows: readonly string[]): BinaryMask {
  const height = rows.length;
  const width = rows[0]!.length;
  const data = new Uint8Array(width * height);
  rows.forEach((row, r) => {
    if (row.length !== width) throw new Error(`row ${r} has length ${row.length}, expected ${width}`);
    for (let c = 0; c < width; c++) data[r * width + c] = row[c] === "#" ? 1 : 0;
  });
  return { width, height, data };
}

/** The rows of a mask as ASCII art (inverse of {@link maskFromRows}). */
export function maskToRows(mask: BinaryMask): string[] {
  const rows: string[] = [];
  for (let r = 0; r < mask.height; r++) {
    let row = "";
    for (let c = 0; c < mask.width; c++) row += mask.data[r * mask.width + c] ? "#" : ".";
    rows.push(row);
  }
  return rows;
}

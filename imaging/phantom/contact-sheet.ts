// A grid of CT slices with their label outlines, as an RGB image (for previews and the README).

/** One tile of a contact sheet: an HU slice and its label map (0 bg, 1 kidney, 2 target). */
export interface ContactTile {
  readonly hu: ArrayLike<number>;
  readonly labels: ArrayLike<number>;
}

/**
 * Renders tiles of `width × height` pixels in `columns` columns, greyscale in `windowHU`
 * (default a soft-tissue window [−160, 240]), kidney outlines in green and target outlines in red.
 * Returns 8-bit RGBA, row-major, ready for a PNG encoder.
 */
export function renderContactSheet(
  tiles: readonly ContactTile[],
  width: number,
  height: number,
  columns: number,
  windowHU: readonly [number, number] = [-160, 240],
): { width: number; height: number; rgba: Uint8Array } {
  const rows = Math.ceil(tiles.length / columns);
  const W = columns * width;
  const H = rows * height;
  const rgba = new Uint8Array(W * H * 4);
  const [low, high] = windowHU;
  tiles.forEach((tile, t) => {
    const ox = (t % columns) * width;
    const oy = Math.floor(t / columns) * height;
    for (let j = 0; j < height; j++) {
      for (let i = 0; i < width; i++) {
        const p = j * width + i;
        const g = Math.round(255 * Math.min(1, Math.max(0, (tile.hu[p]! - low) / (high - low))));
        const label = tile.labels[p]!;
        const edge =
          label > 0 &&
          (i === 0 || j === 0 || i === width - 1 || j === height - 1 ||
            tile.labels[p - 1] !== label || tile.labels[p + 1] !== label ||
            tile.labels[p - width] !== label || tile.labels[p + width] !== label);
        const q = ((oy + j) * W + ox + i) * 4;
        const colour = edge ? (label === 2 ? [255, 40, 40] : [60, 220, 90]) : [g, g, g];
        rgba[q] = colour[0]!;
        rgba[q + 1] = colour[1]!;
        rgba[q + 2] = colour[2]!;
        rgba[q + 3] = 255;
      }
    }
  });
  return { width: W, height: H, rgba };
}

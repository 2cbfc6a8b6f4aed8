// Filled ellipses on a slice grid: the drawing primitive of the phantom.

/** An ellipse in slice millimetres (x → patient left, y → posterior), rotated by `angleRad`. */
export interface Ellipse {
  readonly xMm: number;
  readonly yMm: number;
  readonly aMm: number;
  readonly bMm: number;
  readonly angleRad: number;
}

/** Pixel grid of one slice: `width × height` pixels of `pixelMm`, centred on (0, 0) mm. */
export interface SliceGrid {
  readonly width: number;
  readonly height: number;
  readonly pixelMm: number;
}

/**
 * Calls `visit(p, r2)` for every pixel whose centre lies inside the ellipse, where `p` is the
 * row-major pixel index and `r2` ≤ 1 the squared normalised radius there. Only the ellipse's
 * bounding box is scanned. `clipYMm` (optional) excludes pixels posterior to that y (a flat back).
 */
export function forEachPixelInEllipse(
  grid: SliceGrid,
  e: Ellipse,
  visit: (p: number, r2: number) => void,
  clipYMm = Number.POSITIVE_INFINITY,
): void {
  if (!(e.aMm > 0 && e.bMm > 0)) return;
  const { width, height, pixelMm } = grid;
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const cos = Math.cos(e.angleRad);
  const sin = Math.sin(e.angleRad);
  const extent = Math.max(e.aMm, e.bMm);
  const i0 = Math.max(0, Math.floor(cx + (e.xMm - extent) / pixelMm));
  const i1 = Math.min(width - 1, Math.ceil(cx + (e.xMm + extent) / pixelMm));
  const j0 = Math.max(0, Math.floor(cy + (e.yMm - extent) / pixelMm));
  const j1 = Math.min(height - 1, Math.ceil(cy + (Math.min(e.yMm + extent, clipYMm)) / pixelMm));
  const ia = 1 / (e.aMm * e.aMm);
  const ib = 1 / (e.bMm * e.bMm);
  for (let j = j0; j <= j1; j++) {
    const y = (j - cy) * pixelMm;
    if (y > clipYMm) continue;
    const dy = y - e.yMm;
    for (let i = i0; i <= i1; i++) {
      const dx = (i - cx) * pixelMm - e.xMm;
      const u = dx * cos + dy * sin;
      const v = -dx * sin + dy * cos;
      const r2 = u * u * ia + v * v * ib;
      if (r2 <= 1) visit(j * width + i, r2);
    }
  }
}

/** Paints a constant value into `hu` inside the ellipse. */
export function fillEllipse(grid: SliceGrid, hu: Float32Array, e: Ellipse, value: number, clipYMm?: number): void {
  forEachPixelInEllipse(grid, e, (p) => {
    hu[p] = value;
  }, clipYMm);
}

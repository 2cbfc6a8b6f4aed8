// A slice: one axial 2D image of a series; its pixels live in the object store.

/** A slice as services return it. */
export interface Slice {
  readonly id: string;
  readonly organizationId: string;
  readonly studyId: string;
  readonly seriesId: string;
  /** k index inside the series. */
  readonly sliceIndex: number;
  readonly width: number;
  readonly height: number;
  /** In-plane pixel size [column (i), row (j)] in millimetres. */
  readonly spacingMm: readonly [number, number];
  /** Patient-space position (mm, LPS) of pixel (row 0, column 0). */
  readonly positionLPS: readonly [number, number, number];
  /** Object-store key of the pixels: little-endian float32, row-major, HU (or raw for PNG). */
  readonly storageKey: string;
}

/**
 * A slice's stored pixels (little-endian float32, row-major, `width × height`) as a Float32Array,
 * or null when the byte count does not match the slice's size. Copies once on a little-endian host
 * (the stored buffer may be unaligned or shared).
 */
export function decodeSlicePixels(bytes: Uint8Array, width: number, height: number): Float32Array | null {
  if (bytes.byteLength !== width * height * 4) return null;
  if (LITTLE_ENDIAN) return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Float32Array(width * height);
  for (let p = 0; p < data.length; p++) data[p] = view.getFloat32(p * 4, true);
  return data;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Where a slice's preview PNG is served (GET, same credentials as GraphQL), relative to the API's origin. */
export function slicePreviewPath(sliceId: string): string {
  return `/slices/${encodeURIComponent(sliceId)}/preview.png`;
}

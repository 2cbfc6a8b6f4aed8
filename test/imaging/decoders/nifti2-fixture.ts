// A test-only NIfTI-2 builder (the product writes NIfTI-1 only), with a choice of byte order.

/** Fields of the NIfTI-2 test image; the affine is the sform (RAS, 3×4). */
export interface Nifti2Fixture {
  readonly dims: readonly number[]; // dim[0..]
  readonly datatype: number;
  readonly bitpix: number;
  readonly data: Uint8Array; // voxel bytes, already in the chosen byte order
  readonly affineRAS: readonly (readonly number[])[];
  readonly pixdim?: readonly number[];
  readonly sclSlope?: number;
  readonly sclInter?: number;
  readonly littleEndian?: boolean;
}

/** Serialises a NIfTI-2 single file (`n+2`, 540-byte header, 4 bytes of extension flags, data). */
export function buildNifti2(f: Nifti2Fixture): Uint8Array {
  const le = f.littleEndian ?? true;
  const out = new Uint8Array(544 + f.data.byteLength);
  const v = new DataView(out.buffer);
  v.setInt32(0, 540, le);
  "n+2\0\r\n\x1a\n".split("").forEach((ch, n) => v.setUint8(4 + n, ch.charCodeAt(0)));
  v.setInt16(12, f.datatype, le);
  v.setInt16(14, f.bitpix, le);
  for (let n = 0; n < 8; n++) v.setBigInt64(16 + 8 * n, BigInt(f.dims[n] ?? 1), le);
  const pix = f.pixdim ?? [1, 1, 1, 1, 1, 1, 1, 1];
  for (let n = 0; n < 8; n++) v.setFloat64(104 + 8 * n, pix[n] ?? 1, le);
  v.setBigInt64(168, 544n, le);
  v.setFloat64(176, f.sclSlope ?? 1, le);
  v.setFloat64(184, f.sclInter ?? 0, le);
  v.setInt32(344, 0, le); // qform_code
  v.setInt32(348, 1, le); // sform_code
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) v.setFloat64(400 + (r * 4 + c) * 8, f.affineRAS[r]![c]!, le);
  out.set(f.data, 544);
  return out;
}

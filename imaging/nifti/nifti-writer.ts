// NIfTI-1 single-file (.nii / .nii.gz) writer for volumes with LPS geometry.
import { gzipSync } from "node:zlib";
import type { Volume } from "../volume.ts";

/** NIfTI-1 datatype codes for the voxel arrays a Volume may carry. */
const DATATYPE = { Uint8Array: [2, 8], Int16Array: [4, 16], Uint16Array: [512, 16], Float32Array: [16, 32] } as const;

/** Options for {@link writeNifti}. */
export interface NiftiWriteOptions {
  /** gzip the output (a `.nii.gz`); default true. */
  readonly gzip?: boolean;
  /** zlib level 1–9; default 6. */
  readonly gzipLevel?: number;
  /** Free text for the header's 80-byte `descrip` field (ASCII; truncated). Never put PHI here. */
  readonly description?: string;
  /** Intent code (e.g. 1002 = NIFTI_INTENT_LABEL for label maps); default 0. */
  readonly intentCode?: number;
}

/**
 * Serialises a volume as NIfTI-1 (`n+1`, header + data in one file, vox_offset 352).
 *
 * Geometry: the volume's LPS origin/direction/spacing become both the qform and the sform
 * (code 1, scanner-anatomical) in NIfTI's RAS convention (x and y negated). Units: mm.
 * Voxel (i, j, k) is stored at `i + j*nx + k*nx*ny`, as in {@link Volume}.
 *
 * @throws RangeError when the data length does not match the dimensions.
 */
export function writeNifti(volume: Volume, options: NiftiWriteOptions = {}): Uint8Array {
  const [nx, ny, nz] = volume.dimsIJK;
  if (volume.data.length !== nx * ny * nz) {
    throw new RangeError(`volume data has ${volume.data.length} voxels, dims say ${nx * ny * nz}`);
  }
  const typeName = volume.data.constructor.name as keyof typeof DATATYPE;
  const dt = DATATYPE[typeName];
  if (!dt) throw new RangeError(`unsupported voxel array ${typeName}`);

  const header = new ArrayBuffer(352);
  const v = new DataView(header);
  const le = true;
  v.setInt32(0, 348, le);
  const dims = [3, nx, ny, nz, 1, 1, 1, 1];
  dims.forEach((d, n) => v.setInt16(40 + 2 * n, d, le));
  v.setInt16(68, options.intentCode ?? 0, le);
  v.setInt16(70, dt[0], le);
  v.setInt16(72, dt[1], le);

  // Affine in RAS: columns are the i, j, k axes scaled by spacing.
  const [sx, sy, sz] = volume.spacingMm;
  const toRas = (p: readonly number[]): number[] => [-p[0]!, -p[1]!, p[2]!];
  const axes = volume.directionLPS.map(toRas);
  const originRas = toRas(volume.originLPS);
  const rot = [
    [axes[0]![0]!, axes[1]![0]!, axes[2]![0]!],
    [axes[0]![1]!, axes[1]![1]!, axes[2]![1]!],
    [axes[0]![2]!, axes[1]![2]!, axes[2]![2]!],
  ];
  const det =
    rot[0]![0]! * (rot[1]![1]! * rot[2]![2]! - rot[1]![2]! * rot[2]![1]!) -
    rot[0]![1]! * (rot[1]![0]! * rot[2]![2]! - rot[1]![2]! * rot[2]![0]!) +
    rot[0]![2]! * (rot[1]![0]! * rot[2]![1]! - rot[1]![1]! * rot[2]![0]!);
  const qfac = det < 0 ? -1 : 1;
  if (qfac < 0) for (const row of rot) row[2] = -row[2]!;
  const [qb, qc, qd] = rotationToQuaternion(rot);

  const pixdim = [qfac, sx, sy, sz, 0, 0, 0, 0];
  pixdim.forEach((p, n) => v.setFloat32(76 + 4 * n, p, le));
  v.setFloat32(108, 352, le); // vox_offset
  v.setFloat32(112, 1, le); // scl_slope
  v.setFloat32(116, 0, le); // scl_inter
  v.setUint8(123, 2); // xyzt_units: mm
  const descrip = (options.description ?? "coinseg").slice(0, 79);
  for (let n = 0; n < descrip.length; n++) v.setUint8(148 + n, descrip.charCodeAt(n) & 0x7f);
  v.setInt16(252, 1, le); // qform_code
  v.setInt16(254, 1, le); // sform_code
  v.setFloat32(256, qb, le);
  v.setFloat32(260, qc, le);
  v.setFloat32(264, qd, le);
  v.setFloat32(268, originRas[0]!, le);
  v.setFloat32(272, originRas[1]!, le);
  v.setFloat32(276, originRas[2]!, le);
  const spacing = [sx, sy, sz];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) v.setFloat32(280 + 16 * r + 4 * c, axes[c]![r]! * spacing[c]!, le);
    v.setFloat32(280 + 16 * r + 12, originRas[r]!, le);
  }
  "n+1\0".split("").forEach((ch, n) => v.setUint8(344 + n, ch.charCodeAt(0)));

  const body = new Uint8Array(volume.data.buffer, volume.data.byteOffset, volume.data.byteLength);
  const bytes = new Uint8Array(352 + body.byteLength);
  bytes.set(new Uint8Array(header), 0);
  if (isLittleEndianHost()) bytes.set(body, 352);
  else throw new RangeError("big-endian hosts are not supported by the NIfTI writer");
  if (options.gzip === false) return bytes;
  return new Uint8Array(gzipSync(bytes, { level: options.gzipLevel ?? 6 }));
}

/** Quaternion (b, c, d) of a proper rotation matrix, as in NIfTI-1's quatern convention (a ≥ 0). */
function rotationToQuaternion(r: number[][]): [number, number, number] {
  const [r11, r12, r13] = r[0]!;
  const [r21, r22, r23] = r[1]!;
  const [r31, r32, r33] = r[2]!;
  const trace = r11! + r22! + r33!;
  let a: number, b: number, c: number, d: number;
  if (trace > 0) {
    const s = 0.5 / Math.sqrt(trace + 1);
    a = 0.25 / s;
    b = (r32! - r23!) * s;
    c = (r13! - r31!) * s;
    d = (r21! - r12!) * s;
  } else if (r11! > r22! && r11! > r33!) {
    const s = 2 * Math.sqrt(1 + r11! - r22! - r33!);
    a = (r32! - r23!) / s;
    b = 0.25 * s;
    c = (r12! + r21!) / s;
    d = (r13! + r31!) / s;
  } else if (r22! > r33!) {
    const s = 2 * Math.sqrt(1 + r22! - r11! - r33!);
    a = (r13! - r31!) / s;
    b = (r12! + r21!) / s;
    c = 0.25 * s;
    d = (r23! + r32!) / s;
  } else {
    const s = 2 * Math.sqrt(1 + r33! - r11! - r22!);
    a = (r21! - r12!) / s;
    b = (r13! + r31!) / s;
    c = (r23! + r32!) / s;
    d = 0.25 * s;
  }
  if (a < 0) {
    b = -b;
    c = -c;
    d = -d;
  }
  return [b, c, d];
}

function isLittleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

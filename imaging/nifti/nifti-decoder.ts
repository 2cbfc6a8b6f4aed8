// Decodes NIfTI-1 / NIfTI-2 single-file images (.nii, .nii.gz) into a Volume with LPS geometry.
import * as nifti from "nifti-reader-js";
import { gunzipSync } from "node:zlib";
import { ImagingError } from "../errors/imaging-error.ts";
import { resolveDecodeLimits, type DecodeLimits } from "../decode/decode-limits.ts";
import type { Volume, VoxelArray } from "../volume.ts";

/** Options for {@link decodeNifti}. */
export interface NiftiDecodeOptions {
  /** Size limits (input bytes and gunzipped bytes, voxels); unset fields take the defaults. */
  readonly limits?: Partial<DecodeLimits>;
}

/** NIFTI_INTENT_LABEL: the image is a label map. */
const INTENT_LABEL = 1002;

/** datatype code → [bits per voxel, reader]. Complex, RGB and 64-bit integer types are not supported. */
const DATATYPES: Readonly<Record<number, { bits: number; name: string }>> = {
  2: { bits: 8, name: "uint8" },
  4: { bits: 16, name: "int16" },
  8: { bits: 32, name: "int32" },
  16: { bits: 32, name: "float32" },
  64: { bits: 64, name: "float64" },
  256: { bits: 8, name: "int8" },
  512: { bits: 16, name: "uint16" },
  768: { bits: 32, name: "uint32" },
};

/** True when the bytes start like a gzip stream or a NIfTI-1/2 header (sizeof_hdr 348 or 540, either byte order). */
export function looksLikeNifti(bytes: Uint8Array): boolean {
  if (bytes.byteLength >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return true;
  return headerSize(bytes) !== undefined;
}

/**
 * Decodes a single-file NIfTI-1 (`n+1`) or NIfTI-2 (`n+2`) image, optionally gzipped, either byte order.
 *
 * - Voxels: `value × scl_slope + scl_inter` when scl_slope is finite and ≠ 0 (NIfTI: 0 means
 *   unscaled). Unscaled uint8 / int16 / uint16 keep their type; everything else becomes int16 when
 *   integral and in range, else float32.
 * - Geometry: the sform when sform_code > 0, else the qform when qform_code > 0, else pixdim on
 *   the diagonal (origin 0). NIfTI's RAS world is converted to LPS (x, y negated); spacingMm are
 *   the affine's column norms and directionLPS its normalised columns. So the affine
 *   diag(−sx, −sy, sz) gives identity directions (DATASET.md).
 * - unit: "label" when intent_code is NIFTI_INTENT_LABEL, else "HU" (CT NIfTI carry no unit;
 *   HU is the convention this product assumes).
 * - 3D only: a 4th (or higher) dimension greater than 1 throws NIFTI_4D_UNSUPPORTED rather than
 *   silently taking the first volume.
 *
 * @throws ImagingError UNSUPPORTED_FORMAT (not NIfTI, header/image pair, unsupported datatype),
 *   NIFTI_4D_UNSUPPORTED, IMAGING_TRUNCATED (short header/data, corrupt gzip), IMAGING_INCONSISTENT
 *   (bad dims, bitpix, vox_offset or affine), IMAGING_TOO_LARGE (over the byte/voxel limits).
 */
export function decodeNifti(input: Uint8Array, options: NiftiDecodeOptions = {}): Volume {
  const limits = resolveDecodeLimits(options.limits);
  if (input.byteLength > limits.maxBytes) {
    throw new ImagingError("IMAGING_TOO_LARGE", `NIfTI file of ${input.byteLength} bytes exceeds the ${limits.maxBytes}-byte limit`);
  }
  const bytes = input[0] === 0x1f && input[1] === 0x8b ? gunzipBounded(input, limits.maxBytes) : input;
  const size = headerSize(bytes);
  if (size === undefined) throw new ImagingError("UNSUPPORTED_FORMAT", "not a NIfTI file (sizeof_hdr is neither 348 nor 540)");
  if (bytes.byteLength < size + 4) throw new ImagingError("IMAGING_TRUNCATED", "NIfTI header is truncated");
  const magic = String.fromCharCode(...bytes.subarray(size === 348 ? 344 : 4, size === 348 ? 347 : 7));
  if (magic === "ni1" || magic === "ni2") throw new ImagingError("UNSUPPORTED_FORMAT", "NIfTI header/image pairs (.hdr/.img) are not supported; send a single .nii");
  if (magic !== (size === 348 ? "n+1" : "n+2")) throw new ImagingError("UNSUPPORTED_FORMAT", "NIfTI magic string is missing");

  // Fresh copies throughout: on a Node Buffer .slice() is a view into a shared pool.
  const headerBuffer = new Uint8Array(bytes.subarray(0, size)).buffer;
  let header: nifti.NIFTI1 | nifti.NIFTI2;
  try {
    // Only the fixed header is passed, so the reader never walks (possibly hostile) extensions.
    header = size === 348 ? new nifti.NIFTI1() : new nifti.NIFTI2();
    header.readHeader(headerBuffer);
  } catch (err) {
    throw new ImagingError("IMAGING_INCONSISTENT", "NIfTI header could not be read", { cause: String(err).slice(0, 200) });
  }

  const dims = header.dims.map(Number);
  const rank = dims[0]!;
  if (!Number.isInteger(rank) || rank < 1 || rank > 7) throw new ImagingError("IMAGING_INCONSISTENT", `NIfTI dim[0] = ${rank} is outside 1..7`);
  const extent = (d: number): number => (d <= rank ? dims[d]! : 1);
  const [nx, ny, nz] = [extent(1), extent(2), extent(3)];
  for (const n of [nx, ny, nz]) {
    if (!Number.isSafeInteger(n) || n < 1) throw new ImagingError("IMAGING_INCONSISTENT", `NIfTI dimension ${n} is not a positive integer`);
  }
  for (let d = 4; d <= rank; d++) {
    if (extent(d) > 1) {
      throw new ImagingError("NIFTI_4D_UNSUPPORTED", `NIfTI image has ${rank} dimensions with dim[${d}] = ${extent(d)}; only 3D images are accepted`);
    }
    if (!(extent(d) >= 0)) throw new ImagingError("IMAGING_INCONSISTENT", `NIfTI dim[${d}] is negative`);
  }
  const voxels = nx * ny * nz;
  if (voxels > limits.maxVoxels) throw new ImagingError("IMAGING_TOO_LARGE", `${voxels} voxels exceed the ${limits.maxVoxels}-voxel limit`);
  const type = DATATYPES[header.datatypeCode];
  if (!type) throw new ImagingError("UNSUPPORTED_FORMAT", `NIfTI datatype ${header.datatypeCode} is not supported`);
  if (header.numBitsPerVoxel !== type.bits) {
    throw new ImagingError("IMAGING_INCONSISTENT", `NIfTI bitpix ${header.numBitsPerVoxel} disagrees with datatype ${type.name}`);
  }
  const offset = Number(header.vox_offset);
  if (!Number.isSafeInteger(offset) || offset < size) throw new ImagingError("IMAGING_INCONSISTENT", `NIfTI vox_offset ${offset} is invalid`);
  const dataBytes = voxels * (type.bits / 8);
  if (offset + dataBytes > bytes.byteLength) {
    throw new ImagingError("IMAGING_TRUNCATED", `NIfTI data needs ${offset + dataBytes} bytes, file has ${bytes.byteLength}`);
  }

  const raw = readVoxels(bytes, offset, voxels, type.name, header.littleEndian);
  const slope = header.scl_slope;
  const inter = header.scl_inter;
  const scaled = Number.isFinite(slope) && slope !== 0 && (slope !== 1 || (Number.isFinite(inter) && inter !== 0));
  const data = scaled ? rescale(raw, slope, Number.isFinite(inter) ? inter : 0) : narrow(raw);
  const geometry = niftiGeometry(header, bytes, size);
  return {
    dimsIJK: [nx, ny, nz],
    ...geometry,
    unit: header.intent_code === INTENT_LABEL ? "label" : "HU",
    data,
    meta: { format: size === 348 ? "NIfTI-1" : "NIfTI-2", datatype: type.name, qformCode: header.qform_code, sformCode: header.sform_code },
  };
}

function headerSize(b: Uint8Array): 348 | 540 | undefined {
  if (b.byteLength < 4) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, 4);
  for (const le of [true, false]) {
    const n = v.getInt32(0, le);
    if (n === 348 || n === 540) return n;
  }
  return undefined;
}

function gunzipBounded(input: Uint8Array, maxBytes: number): Uint8Array {
  try {
    // Native zlib stops with ERR_BUFFER_TOO_LARGE once the output would pass the limit (gzip bombs).
    const out = gunzipSync(input, { maxOutputLength: maxBytes });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") throw new ImagingError("IMAGING_TOO_LARGE", `gunzipped NIfTI exceeds the ${maxBytes}-byte limit`);
    throw new ImagingError("IMAGING_TRUNCATED", "gzip stream is corrupt or truncated", { cause: code ?? "zlib error" });
  }
}

type RawArray = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

function readVoxels(bytes: Uint8Array, offset: number, count: number, name: string, littleEndian: boolean): RawArray {
  const width = name === "float64" ? 8 : name.endsWith("32") ? 4 : name.endsWith("16") ? 2 : 1;
  const copy = new Uint8Array(bytes.subarray(offset, offset + count * width));
  const hostLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (width > 1 && littleEndian !== hostLE) {
    for (let p = 0; p < copy.length; p += width) {
      for (let a = p, b = p + width - 1; a < b; a++, b--) {
        const t = copy[a]!;
        copy[a] = copy[b]!;
        copy[b] = t;
      }
    }
  }
  const buf = copy.buffer;
  switch (name) {
    case "uint8": return new Uint8Array(buf, 0, count);
    case "int8": return new Int8Array(buf, 0, count);
    case "int16": return new Int16Array(buf, 0, count);
    case "uint16": return new Uint16Array(buf, 0, count);
    case "int32": return new Int32Array(buf, 0, count);
    case "uint32": return new Uint32Array(buf, 0, count);
    case "float32": return new Float32Array(buf, 0, count);
    default: return new Float64Array(buf, 0, count);
  }
}

/** Keeps Volume-native types; converts others to int16 when lossless, else float32. */
function narrow(raw: RawArray): VoxelArray {
  if (raw instanceof Uint8Array || raw instanceof Int16Array || raw instanceof Uint16Array || raw instanceof Float32Array) return raw;
  return toBest(raw, 1, 0);
}

function rescale(raw: RawArray, slope: number, inter: number): VoxelArray {
  return toBest(raw, slope, inter);
}

function toBest(raw: RawArray, slope: number, inter: number): Int16Array | Float32Array {
  let integral = Number.isInteger(slope) && Number.isInteger(inter) && !(raw instanceof Float32Array || raw instanceof Float64Array);
  if (integral) {
    for (let p = 0; p < raw.length; p++) {
      const v = raw[p]! * slope + inter;
      if (v < -32768 || v > 32767) {
        integral = false;
        break;
      }
    }
  }
  const out = integral ? new Int16Array(raw.length) : new Float32Array(raw.length);
  for (let p = 0; p < raw.length; p++) out[p] = raw[p]! * slope + inter;
  return out;
}

type Geometry = Pick<Volume, "spacingMm" | "originLPS" | "directionLPS">;

/** The voxel→LPS geometry from sform, qform or pixdim (see {@link decodeNifti}). */
function niftiGeometry(h: nifti.NIFTI1 | nifti.NIFTI2, bytes: Uint8Array, size: number): Geometry {
  const pix = h.pixDims.map(Number);
  let m: number[][]; // 3×4 affine, RAS
  if (h.sform_code > 0) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, size);
    const at = size === 348 ? 280 : 400;
    const w = size === 348 ? 4 : 8;
    m = [0, 1, 2].map((r) =>
      [0, 1, 2, 3].map((c) => (w === 4 ? v.getFloat32(at + (r * 4 + c) * 4, h.littleEndian) : v.getFloat64(at + (r * 4 + c) * 8, h.littleEndian))),
    );
  } else if (h.qform_code > 0) {
    const b = h.quatern_b;
    const c = h.quatern_c;
    const d = h.quatern_d;
    const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
    const qfac = pix[0]! < 0 ? -1 : 1;
    const r = [
      [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
      [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
      [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - b * b - c * c],
    ];
    const sp = [pix[1]!, pix[2]!, pix[3]! * qfac];
    const off = [h.qoffset_x, h.qoffset_y, h.qoffset_z];
    m = r.map((row, i) => [row[0]! * sp[0]!, row[1]! * sp[1]!, row[2]! * sp[2]!, off[i]!]);
  } else {
    m = [
      [pix[1]!, 0, 0, 0],
      [0, pix[2]!, 0, 0],
      [0, 0, pix[3]!, 0],
    ];
  }
  // RAS → LPS: negate x and y.
  const lps = m.map((row, r) => (r < 2 ? row.map((x) => -x) : row));
  const spacing: number[] = [];
  const dirs: [number, number, number][] = [];
  for (let c = 0; c < 3; c++) {
    const col = [lps[0]![c]!, lps[1]![c]!, lps[2]![c]!];
    const norm = Math.hypot(col[0]!, col[1]!, col[2]!);
    if (!Number.isFinite(norm) || norm < 1e-9) {
      throw new ImagingError("IMAGING_INCONSISTENT", `NIfTI affine column ${c} is zero or not finite (bad pixdim / sform)`);
    }
    spacing.push(norm);
    dirs.push([col[0]! / norm, col[1]! / norm, col[2]! / norm]);
  }
  const origin = [lps[0]![3]!, lps[1]![3]!, lps[2]![3]!];
  if (!origin.every(Number.isFinite)) throw new ImagingError("IMAGING_INCONSISTENT", "NIfTI origin is not finite");
  return {
    spacingMm: [spacing[0]!, spacing[1]!, spacing[2]!],
    originLPS: [origin[0]!, origin[1]!, origin[2]!],
    directionLPS: [dirs[0]!, dirs[1]!, dirs[2]!],
  };
}

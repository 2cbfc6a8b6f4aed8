// Small in-code volumes shared by the decoder tests.
import type { Volume } from "../../../imaging/volume.ts";

type Dir = readonly [readonly [number, number, number], readonly [number, number, number], readonly [number, number, number]];

/**
 * A small HU volume whose voxel values encode their index: HU = i + 10·j + 100·k − 1000 (so every
 * voxel is distinct and order mistakes show), with the given geometry.
 */
export function indexVolume(
  dimsIJK: readonly [number, number, number] = [5, 4, 3],
  geometry: { spacingMm?: readonly [number, number, number]; originLPS?: readonly [number, number, number]; directionLPS?: Dir } = {},
): Volume<Int16Array> {
  const [nx, ny, nz] = dimsIJK;
  const data = new Int16Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) data[i + j * nx + k * nx * ny] = i + 10 * j + 100 * k - 1000;
  return {
    dimsIJK,
    spacingMm: geometry.spacingMm ?? [0.7, 0.8, 2.5],
    originLPS: geometry.originLPS ?? [-120.5, 33.25, 410],
    directionLPS: geometry.directionLPS ?? [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ],
    unit: "HU",
    data,
  };
}

/** An oblique right-handed direction: rotation of 30° about z then 20° about x. */
export function obliqueDirection(): Dir {
  const a = (30 * Math.PI) / 180;
  const b = (20 * Math.PI) / 180;
  const i = [Math.cos(a), Math.sin(a) * Math.cos(b), Math.sin(a) * Math.sin(b)] as const;
  const j0 = [-Math.sin(a), Math.cos(a), 0];
  const j = [j0[0]!, j0[1]! * Math.cos(b), j0[1]! * Math.sin(b)] as const;
  const k = [i[1] * j[2] - i[2] * j[1], i[2] * j[0] - i[0] * j[2], i[0] * j[1] - i[1] * j[0]] as const;
  return [i, j, k];
}

/** Asserts-friendly max absolute difference between two number lists. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let n = 0; n < a.length; n++) m = Math.max(m, Math.abs(a[n]! - b[n]!));
  return m;
}

/**
 * Re-frames an Explicit VR Little Endian Part 10 file (as writeDicomSeries writes it) under another
 * transfer syntax: the meta header's (0002,0010) is replaced (group length fixed up) and the data
 * set after the meta header goes through `body` (default: unchanged).
 */
export function withTransferSyntax(file: Uint8Array, transferSyntaxUID: string, body: (dataSet: Uint8Array) => Uint8Array = (d) => d): Uint8Array {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const meta: Uint8Array[] = [file.subarray(0, 132)];
  let at = 132;
  let groupLengthAt = -1;
  let delta = 0;
  while (v.getUint16(at, true) === 0x0002) {
    const elem = v.getUint16(at + 2, true);
    const vr = String.fromCharCode(file[at + 4]!, file[at + 5]!);
    const long = ["OB", "OW", "SQ", "UN", "UT"].includes(vr);
    const len = long ? v.getUint32(at + 8, true) : v.getUint16(at + 6, true);
    const head = long ? 12 : 8;
    if (elem === 0x0010) {
      const uid = Buffer.from(transferSyntaxUID.length % 2 ? `${transferSyntaxUID}\0` : transferSyntaxUID, "latin1");
      const el = Buffer.alloc(8 + uid.length);
      el.set(file.subarray(at, at + 6));
      el.writeUInt16LE(uid.length, 6);
      el.set(uid, 8);
      meta.push(el);
      delta = uid.length - len;
    } else {
      if (elem === 0x0000) groupLengthAt = meta.reduce((n, m) => n + m.length, 0) + 8;
      meta.push(file.slice(at, at + head + len));
    }
    at += head + len;
  }
  const header = Buffer.concat(meta);
  if (groupLengthAt >= 0) header.writeUInt32LE(header.readUInt32LE(groupLengthAt) + delta, groupLengthAt);
  return new Uint8Array(Buffer.concat([header, body(file.subarray(at))]));
}

/**
 * Replaces the native Pixel Data (7FE0,0010), the last element of an Explicit VR Little Endian data
 * set, by encapsulated pixel data: OB of undefined length, an empty basic offset table, one item
 * per fragment (padded to even length) and a sequence delimiter, as compressed syntaxes store it.
 */
export function encapsulatePixelData(dataSet: Uint8Array, fragments: readonly Uint8Array[]): Uint8Array {
  const bytes = Buffer.from(dataSet);
  const at = bytes.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  if (at < 0) throw new Error("no Pixel Data element");
  const item = (payload: Uint8Array): Buffer => {
    const padded = Buffer.concat([Buffer.from(payload), Buffer.alloc(payload.length % 2)]);
    const h = Buffer.alloc(8);
    h.writeUInt16LE(0xfffe, 0);
    h.writeUInt16LE(0xe000, 2);
    h.writeUInt32LE(padded.length, 4);
    return Buffer.concat([h, padded]);
  };
  const head = Buffer.alloc(12);
  head.writeUInt16LE(0x7fe0, 0);
  head.writeUInt16LE(0x0010, 2);
  head.write("OB", 4, "latin1");
  head.writeUInt32LE(0xffffffff, 8);
  const delimiter = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  return new Uint8Array(Buffer.concat([bytes.subarray(0, at), head, item(new Uint8Array(0)), ...fragments.map(item), delimiter]));
}

/** The first bytes of a JPEG (SOI, APP0 "JFIF") and of a JPEG 2000 codestream (SOC, SIZ): enough to look compressed. */
export const COMPRESSED_FRAGMENTS = {
  jpeg: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0xff, 0xd9]),
  jpeg2000: new Uint8Array([0xff, 0x4f, 0xff, 0x51, 0x00, 0x29, 0x00, 0x00, 0xff, 0xd9]),
} as const;

// A phantom study's pixels (imaging/phantom), as the float32 HU slices the object store holds.
import { generateBenchmarkScan, type BenchmarkScan } from "../../../imaging/phantom/benchmark-scan.ts";

/** Generated scans, by index (generation takes a while; tests ask for the same scan repeatedly). */
const scans = new Map<number, BenchmarkScan>();

/** `count` consecutive axial slices (centred on the kidneys) of kidney-blob phantom scan `scanIndex`, in HU. */
export function phantomSlices(count: number, scanIndex = 0): { width: number; height: number; slices: Float32Array[]; abnormal: boolean[] } {
  const scan = scans.get(scanIndex) ?? generateBenchmarkScan(scanIndex, { benchmark: "kidney-blob", seed: 7, windowHU: [49, 255] });
  scans.set(scanIndex, scan);
  const { width, height, slices: depth } = scan.geometry;
  if (count > depth) throw new RangeError(`the phantom has ${depth} slices`);
  const first = Math.floor((depth - count) / 2);
  const plane = width * height;
  const slices: Float32Array[] = [];
  const abnormal: boolean[] = [];
  for (let k = first; k < first + count; k++) {
    slices.push(Float32Array.from(scan.volumeHU.subarray(k * plane, (k + 1) * plane)));
    abnormal.push(scan.slices.find((s) => s.sliceIndex === k)?.label === 1);
  }
  return { width, height, slices, abnormal };
}

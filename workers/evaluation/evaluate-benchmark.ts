// Runs every method (and the oracle) over a benchmark's test slices through the service's pipeline and scores them.
import type { Image2D } from "../../imaging/volume.ts";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SegmentationMethod } from "../../core/domain/enums.ts";
import type { BinaryMask } from "../../imaging/mask/binary-mask.ts";
import { cleanUpMask } from "../../imaging/mask/clean-up-mask.ts";
import { mapToNativeMask } from "../../imaging/mask/map-to-native-mask.ts";
import { refineMask } from "../../imaging/mask/refine-mask.ts";
import { thresholdMap } from "../../imaging/mask/threshold-map.ts";
import { confusionCounts, type ConfusionCounts } from "../../imaging/metrics/confusion-counts.ts";
import { counterfactualValidity } from "../../imaging/metrics/counterfactual-validity.ts";
import { summariseSegmentation, type SegmentationSummary } from "../../imaging/metrics/segmentation-summary.ts";
import { groundTruthToModelSize } from "../../imaging/preprocess/ground-truth-to-model-size.ts";
import { preprocessSlices } from "../../imaging/preprocess/preprocess-slices.ts";
import { renderMaskOverlayPng } from "../../imaging/render/mask-overlay-png.ts";
import type { InferenceEngine } from "../engine/inference-engine.port.ts";
import { counterfactualMask, DEFAULT_MASK_THRESHOLD } from "../methods/counterfactual-mask.ts";
import { DEFAULT_RISE_PARAMS, type RiseParams } from "../methods/rise-method.ts";
import { RiseMaskCache } from "../methods/rise-mask-cache.ts";
import { runBatched } from "../methods/run-batched.ts";
import { sigmoid } from "../methods/sigmoid.ts";
import { SegmentationPipeline } from "../pipeline/segmentation-pipeline.ts";
import type { BenchmarkSlice } from "./benchmark-test-set.ts";

/**
 * A row of the report: a method, a counterfactual method with the paper's clean-up or with the
 * refinement (only for a generator whose model.json carries thresholds.hysteresis), or the oracle.
 */
export type EvaluationRowId =
  | SegmentationMethod
  | "COIN_CLEAN"
  | "COIN_REFINED"
  | "SINGLA_CLEAN"
  | "SINGLA_REFINED"
  | "ORACLE"
  | "ORACLE_CLEAN";

/** Counterfactual validity of a row (DESIGN.md §2). */
export interface RowValidity {
  /** Over slices with f(X) > τ: fraction with |f(X) − f(X_cf)| > τ; null when no slice qualifies. */
  readonly cv: number | null;
  readonly cvSlices: number;
  /** Over slices the classifier calls abnormal (f(X) > 0.5): fraction whose x_cf it calls normal; null when none. */
  readonly flipRate: number | null;
  readonly flipSlices: number;
}

/** Scores of one row. */
export interface RowEvaluation {
  readonly row: EvaluationRowId;
  /** Slices scored (RISE may be limited). */
  readonly slices: number;
  /** [height, width] the row's masks are scored at: the classifier's size, or the generator's own when it works above it. */
  readonly modelSize: readonly [number, number];
  /** At model size against the ground truth resized the training way (the paper's protocol). */
  readonly summary: SegmentationSummary;
  /**
   * The mask the service returns (the map upsampled to the native grid, then thresholded; clean-up
   * on that grid) against the native ground truth.
   */
  readonly nativeSummary: SegmentationSummary;
  /** Counterfactual rows only (τ from the classifier's model.json). */
  readonly validity: RowValidity | null;
  /** Mean SegmentationPipeline total per slice (ms); for the oracle, its own preprocess + classify + mask. */
  readonly msPerSlice: number;
  /** Refined rows: the lower threshold used (the generator's thresholds.hysteresis). */
  readonly hysteresis?: number;
  /**
   * The same scores over the shared subset (the slices every method ran on, {@link BenchmarkEvaluation.commonSlices}),
   * present only when a limit made that subset smaller than the test set: the like-for-like comparison.
   */
  readonly commonSummary?: SegmentationSummary;
  /** Mask-threshold sweep over the difference map (counterfactual rows without clean-up). */
  readonly sweep?: readonly { readonly threshold: number; readonly pooledIoU: number; readonly pooledDice: number }[];
}

/** One rendered example overlay. */
export interface ExampleOverlay {
  readonly row: EvaluationRowId;
  readonly scanId: string;
  readonly sliceIndex: number;
  /** File name relative to the output folder. */
  readonly file: string;
  readonly iou: number;
}

/** Options of {@link evaluateBenchmark}. */
export interface EvaluateBenchmarkOptions {
  readonly engine: InferenceEngine;
  readonly classifierKey: string;
  readonly coinKey: string;
  readonly singlaKey: string;
  /** Methods to run (default all five); the oracle always runs. */
  readonly methods?: readonly SegmentationMethod[];
  readonly rise?: Partial<RiseParams>;
  /** Run RISE on K slices only, spread evenly over the set ({@link spreadOrder}). */
  readonly riseLimit?: number;
  /** Run ScoreCAM on K slices only (C forward passes per slice), spread the same way. */
  readonly scoreCamLimit?: number;
  /** Thresholds of the sweep (default 0.15, 0.20, 0.25, 0.30, 0.35). */
  readonly sweepThresholds?: readonly number[];
  /** Slices per pipeline call (default 8). */
  readonly batchSize?: number;
  /** Where overlay PNGs go (created); no overlays when unset. */
  readonly overlayDir?: string;
  /** Number of example slices in the overlay grid (default 6). */
  readonly examples?: number;
  /** Called after each slice of each row. */
  readonly onProgress?: (row: EvaluationRowId, slicesDone: number) => void;
}

/** The evaluation of one benchmark. */
export interface BenchmarkEvaluation {
  readonly rows: readonly RowEvaluation[];
  readonly overlays: readonly ExampleOverlay[];
  /** Slices evaluated (ground-truth-positive test slices, after --limit). */
  readonly slices: number;
  /** Slices RISE ran on (0 when it did not run). */
  readonly riseSlices: number;
  /** Slices ScoreCAM ran on (0 when it did not run). */
  readonly scoreCamSlices: number;
  /**
   * Slices every method ran on: the first `commonSlices` of {@link spreadOrder} (each limited method runs
   * on a prefix of it, so the subsets nest). Equal to `slices` when nothing was limited.
   */
  readonly commonSlices: number;
  readonly modelSize: readonly [number, number];
}

const DEFAULT_SWEEP = [0.15, 0.2, 0.25, 0.3, 0.35];

/**
 * An order of the indices 0…n−1 whose every prefix is spread evenly over the set: index
 * ⌊v(k)·n⌋ for the base-2 van der Corput sequence v(k) = 0, ½, ¼, ¾, ⅛, …, duplicates skipped. With
 * m = 2^⌈log₂ n⌉ ≥ n the first m terms step by n/m ≤ 1 and so cover every index. A method limited to
 * K slices runs on the first K, so the subsets of two limits nest and the smaller is shared by every
 * row; the test set is ordered by scan and slice, so a prefix of the plain order would be a few scans.
 */
export function spreadOrder(n: number): number[] {
  let bits = 0;
  while (1 << bits < n) bits++;
  const m = 1 << bits;
  const seen = new Uint8Array(n);
  const order: number[] = [];
  for (let k = 0; k < m && order.length < n; k++) {
    let r = 0;
    for (let b = 0; b < bits; b++) if (k & (1 << b)) r |= 1 << (bits - 1 - b);
    const i = Math.floor((r * n) / m);
    if (!seen[i]) {
      seen[i] = 1;
      order.push(i);
    }
  }
  return order;
}

/**
 * Evaluates the methods on `slices` (DESIGN.md §2): every method runs through {@link SegmentationPipeline}
 * with `forceSegmentation` (every ground-truth-positive slice is segmented, whatever the classifier
 * says); masks are scored at model size against the ground truth resized the training way
 * (bilinear, ≥ 0.5), and the native masks the service returns against the native ground truth. Pooled and per-slice IoU/Dice, CV (slices with f(X) > τ) and flip rate (slices called abnormal),
 * ms/slice. The ORACLE row applies COIN's mask rule with x_cf = the clean slice.
 */
export async function evaluateBenchmark(slices: readonly BenchmarkSlice[], options: EvaluateBenchmarkOptions): Promise<BenchmarkEvaluation> {
  const { engine, classifierKey } = options;
  const classifier = await engine.spec(classifierKey);
  const [height, width] = classifier.preprocess.size;
  const tau = classifier.thresholds.cvTau;
  const abnormalThreshold = classifier.thresholds.abnormal;
  const sweepThresholds = options.sweepThresholds ?? DEFAULT_SWEEP;
  const batchSize = options.batchSize ?? 8;
  const riseMaskCache = new RiseMaskCache();
  const pipeline = new SegmentationPipeline({ engine, riseMaskCache });
  // The ground truth at each grid a row is scored on (the classifier's; a generator's above it).
  const truthsByGrid = new Map<string, Image2D<Uint8Array>[]>();
  const truthsAt = (h: number, w: number): Image2D<Uint8Array>[] => {
    const key = `${h}x${w}`;
    let truths = truthsByGrid.get(key);
    if (!truths) truthsByGrid.set(key, (truths = slices.map((s) => groundTruthToModelSize(s.truth, h, w))));
    return truths;
  };
  const methods = options.methods ?? (["COIN", "SINGLA", "RISE", "SCORE_CAM", "LAYER_CAM"] as const);
  const riseCount = Math.min(slices.length, options.riseLimit ?? slices.length);
  const scoreCamCount = Math.min(slices.length, options.scoreCamLimit ?? slices.length);
  const countOf = (m: SegmentationMethod): number => (m === "RISE" ? riseCount : m === "SCORE_CAM" ? scoreCamCount : slices.length);
  const order = spreadOrder(slices.length);
  // A method runs on a prefix of the spread order (all of it when not limited), ascending so batches
  // keep scan order.
  const prefixOf = (count: number): number[] => order.slice(0, count).sort((a, b) => a - b);
  const commonCount = Math.min(slices.length, ...methods.map(countOf));
  const common = prefixOf(commonCount);
  const commonSummaryOf = (perSlice: ReadonlyMap<number, ConfusionCounts>): { commonSummary?: SegmentationSummary } =>
    commonCount > 0 && commonCount < slices.length ? { commonSummary: summariseSegmentation(common.map((i) => perSlice.get(i)!)) } : {};
  // Examples are taken among the slices every method ran on, so the overlay grid has no holes.
  const exampleCount = Math.min(options.examples ?? 6, commonCount);
  const exampleIndices = new Set(
    Array.from({ length: exampleCount }, (_, e) => common[Math.floor(((e + 0.5) * commonCount) / exampleCount)]!),
  );
  const overlays: ExampleOverlay[] = [];
  const rows: RowEvaluation[] = [];
  if (options.overlayDir) await mkdir(options.overlayDir, { recursive: true });

  const writeOverlay = async (row: EvaluationRowId, i: number, nativeMask: BinaryMask, counts: ConfusionCounts): Promise<void> => {
    if (!options.overlayDir || !exampleIndices.has(i)) return;
    const s = slices[i]!;
    const file = `overlay-${row.toLowerCase()}-${s.scanId}-${s.sliceIndex}.png`;
    await writeFile(join(options.overlayDir, file), renderMaskOverlayPng({ slice: s.hu, windowHU: classifier.preprocess.windowHU, mask: nativeMask, groundTruth: s.truth }));
    const denom = counts.tp + counts.fp + counts.fn;
    overlays.push({ row, scanId: s.scanId, sliceIndex: s.sliceIndex, file, iou: denom === 0 ? 1 : counts.tp / denom });
  };
  const validityOf = (pairs: { pBefore: number; pAfter: number }[]): RowValidity => {
    const all = counterfactualValidity(pairs, { tau, abnormalThreshold });
    const called = pairs.filter((p) => p.pBefore > abnormalThreshold);
    const flips = called.length > 0 ? counterfactualValidity(called, { tau, abnormalThreshold }) : null;
    return { cv: all.cv, cvSlices: all.confidentSlices, flipRate: flips ? flips.flipRate : null, flipSlices: called.length };
  };

  // Untimed warm-up: sessions created and run once, RISE masks generated, before any timing.
  if (slices.length > 0) {
    if (methods.includes("RISE")) riseMaskCache.get({ height, width, ...DEFAULT_RISE_PARAMS, ...options.rise });
    for (const method of methods.filter((m) => m !== "RISE" && m !== "SCORE_CAM").concat(["LAYER_CAM"])) {
      const generatorKey = method === "COIN" ? options.coinKey : method === "SINGLA" ? options.singlaKey : undefined;
      await pipeline.segment({ method, classifierKey, ...(generatorKey ? { generatorKey } : {}), slices: [slices[0]!.hu], params: { forceSegmentation: true } });
    }
  }

  for (const method of methods) {
    const indices = prefixOf(countOf(method));
    const count = indices.length;
    const counterfactual = method === "COIN" || method === "SINGLA";
    const generatorKey = method === "COIN" ? options.coinKey : options.singlaKey;
    const low = counterfactual ? (await engine.spec(generatorKey)).thresholds.hysteresis : undefined;
    const counts = new Map<number, ConfusionCounts>();
    const cleanCounts = new Map<number, ConfusionCounts>();
    const refinedCounts = new Map<number, ConfusionCounts>();
    const nativeCounts: ConfusionCounts[] = [];
    const nativeCleanCounts: ConfusionCounts[] = [];
    const nativeRefinedCounts: ConfusionCounts[] = [];
    const sweepCounts = sweepThresholds.map(() => [] as ConfusionCounts[]);
    const pairs: { pBefore: number; pAfter: number }[] = [];
    let totalMs = 0;
    let grid: [number, number] = [height, width];
    for (let start = 0; start < count; start += batchSize) {
      const chunkIndices = indices.slice(start, start + batchSize);
      const chunk = chunkIndices.map((i) => slices[i]!);
      const results = await pipeline.segment({
        method,
        classifierKey,
        ...(counterfactual ? { generatorKey } : {}),
        slices: chunk.map((s) => s.hu),
        params: { forceSegmentation: true, ...(options.rise ? { rise: options.rise } : {}) },
      });
      for (let j = 0; j < results.length; j++) {
        const i = chunkIndices[j]!;
        const r = results[j]!;
        const { width: mw, height: mh } = r.model;
        grid = [mh, mw];
        const truths = truthsAt(mh, mw);
        totalMs += r.timingsMs.total ?? 0;
        counts.set(i, confusionCounts(r.model.mask, truths[i]!));
        const nc = confusionCounts(r.mask, slices[i]!.truth);
        nativeCounts.push(nc);
        await writeOverlay(method, i, r.mask, nc);
        if (counterfactual) {
          pairs.push({ pBefore: r.pBefore, pAfter: r.pAfter });
          cleanCounts.set(i, confusionCounts(cleanUpMask(r.model.rawMask), truths[i]!));
          nativeCleanCounts.push(confusionCounts(cleanUpMask(r.mask), slices[i]!.truth));
          if (low !== undefined) {
            // The pipeline's refine rule (same masks as params.refine), on both grids.
            const s = slices[i]!;
            refinedCounts.set(i, confusionCounts(refineMask(r.model.rawMask, thresholdMap(r.model.map!, mw, mh, low)), truths[i]!));
            const weak = mapToNativeMask({ width: mw, height: mh, data: r.model.map! }, s.hu.height, s.hu.width, low);
            nativeRefinedCounts.push(confusionCounts(refineMask(r.mask, weak), s.truth));
          }
          sweepThresholds.forEach((t, k) => sweepCounts[k]!.push(confusionCounts(thresholdMap(r.model.map!, mw, mh, t), truths[i]!)));
        }
        options.onProgress?.(method, start + j + 1);
      }
    }
    if (count === 0) continue;
    const sweep = !counterfactual ? [] : sweepThresholds.map((threshold, k) => {
      const s = summariseSegmentation(sweepCounts[k]!);
      return { threshold, pooledIoU: s.pooledIoU, pooledDice: s.pooledDice };
    });
    rows.push({
      row: method,
      slices: count,
      modelSize: grid,
      summary: summariseSegmentation([...counts.values()]),
      nativeSummary: summariseSegmentation(nativeCounts),
      ...commonSummaryOf(counts),
      validity: counterfactual ? validityOf(pairs) : null,
      msPerSlice: totalMs / count,
      ...(counterfactual ? { sweep } : {}),
    });
    if (counterfactual) {
      rows.push({
        row: `${method}_CLEAN`,
        slices: count,
        modelSize: grid,
        summary: summariseSegmentation([...cleanCounts.values()]),
        nativeSummary: summariseSegmentation(nativeCleanCounts),
        ...commonSummaryOf(cleanCounts),
        validity: validityOf(pairs),
        msPerSlice: totalMs / count,
      });
      if (low !== undefined) {
        rows.push({
          row: `${method}_REFINED`,
          slices: count,
          modelSize: grid,
          summary: summariseSegmentation([...refinedCounts.values()]),
          nativeSummary: summariseSegmentation(nativeRefinedCounts),
          ...commonSummaryOf(refinedCounts),
          validity: validityOf(pairs),
          msPerSlice: totalMs / count,
          hysteresis: low,
        });
      }
    }
  }

  // ORACLE: x_cf = the clean slice, same preprocessing and mask rule, on COIN's grid (the classifier's, or
  // the COIN generator's when it works above it): the ceiling of the headline row. f sees its own input.
  const coinSpec = methods.includes("COIN") && options.coinKey ? await engine.spec(options.coinKey) : undefined;
  const oracleSpec = coinSpec ? { ...classifier.preprocess, size: coinSpec.preprocess.size } : classifier.preprocess;
  const [oh, ow] = oracleSpec.size;
  const oracleTruths = truthsAt(oh, ow);
  const counts = new Map<number, ConfusionCounts>();
  const cleanCounts = new Map<number, ConfusionCounts>();
  const nativeCounts: ConfusionCounts[] = [];
  const nativeCleanCounts: ConfusionCounts[] = [];
  const sweepCounts = sweepThresholds.map(() => [] as ConfusionCounts[]);
  const pairs: { pBefore: number; pAfter: number }[] = [];
  let oracleMs = 0;
  const plane = oh * ow;
  const sameGrid = oh === height && ow === width;
  for (let start = 0; start < slices.length; start += batchSize) {
    const t0 = performance.now();
    const chunk = slices.slice(start, start + batchSize);
    const fx = preprocessSlices(chunk.map((s) => s.hu), classifier.preprocess);
    const fxCf = preprocessSlices(chunk.map((s) => s.clean), classifier.preprocess);
    const x = sameGrid ? fx : preprocessSlices(chunk.map((s) => s.hu), oracleSpec);
    const xCf = sameGrid ? fxCf : preprocessSlices(chunk.map((s) => s.clean), oracleSpec);
    const n = chunk.length;
    const before = await runBatched(engine, classifierKey, { x: { data: fx.data, dims: [...fx.shape] } }, ["logit"], batchSize);
    const after = await runBatched(engine, classifierKey, { x: { data: fxCf.data, dims: [...fxCf.shape] } }, ["logit"], batchSize);
    const masks = chunk.map((_, j) => counterfactualMask(x.data.subarray(j * plane, (j + 1) * plane), xCf.data.subarray(j * plane, (j + 1) * plane), ow, oh));
    oracleMs += performance.now() - t0;
    for (let j = 0; j < n; j++) {
      const i = start + j;
      const { diff, mask } = masks[j]!;
      counts.set(i, confusionCounts(mask, oracleTruths[i]!));
      cleanCounts.set(i, confusionCounts(cleanUpMask(mask), oracleTruths[i]!));
      const s = chunk[j]!;
      const native = mapToNativeMask({ width: ow, height: oh, data: diff }, s.hu.height, s.hu.width, DEFAULT_MASK_THRESHOLD);
      const nc = confusionCounts(native, s.truth);
      nativeCounts.push(nc);
      nativeCleanCounts.push(confusionCounts(cleanUpMask(native), s.truth));
      sweepThresholds.forEach((t, k) => sweepCounts[k]!.push(confusionCounts(thresholdMap(diff, ow, oh, t), oracleTruths[i]!)));
      pairs.push({ pBefore: sigmoid(before.logit!.data[j]!), pAfter: sigmoid(after.logit!.data[j]!) });
      await writeOverlay("ORACLE", i, native, nc);
      options.onProgress?.("ORACLE", i + 1);
    }
  }
  if (slices.length > 0) {
    const sweep = sweepThresholds.map((threshold, k) => {
      const s = summariseSegmentation(sweepCounts[k]!);
      return { threshold, pooledIoU: s.pooledIoU, pooledDice: s.pooledDice };
    });
    const base = { slices: slices.length, modelSize: [oh, ow] as const, validity: validityOf(pairs), msPerSlice: oracleMs / slices.length };
    rows.push({ row: "ORACLE", ...base, summary: summariseSegmentation([...counts.values()]), nativeSummary: summariseSegmentation(nativeCounts), ...commonSummaryOf(counts), sweep });
    rows.push({ row: "ORACLE_CLEAN", ...base, summary: summariseSegmentation([...cleanCounts.values()]), nativeSummary: summariseSegmentation(nativeCleanCounts), ...commonSummaryOf(cleanCounts) });
  }
  return {
    rows,
    overlays,
    slices: slices.length,
    riseSlices: methods.includes("RISE") ? riseCount : 0,
    scoreCamSlices: methods.includes("SCORE_CAM") ? scoreCamCount : 0,
    commonSlices: commonCount,
    modelSize: [height, width],
  };
}

// Per-request DataLoaders: one batched, organisation-scoped query per relation and request.
import DataLoader from "dataloader";
import type { GroundTruthMask } from "../core/domain/ground-truth-mask.ts";
import type { Label } from "../core/domain/label.ts";
import type { Principal } from "../core/domain/principal.ts";
import type { SegmentationJob } from "../core/domain/segmentation-job.ts";
import type { Series } from "../core/domain/series.ts";
import type { Slice } from "../core/domain/slice.ts";
import type { SliceResult } from "../core/domain/slice-result.ts";
import type { Study } from "../core/domain/study.ts";
import type { ApiServices } from "./graphql-context.ts";

/** The loaders of one request. */
export interface DataLoaders {
  readonly studyById: DataLoader<string, Study | null>;
  readonly seriesByStudy: DataLoader<string, Series[]>;
  readonly slicesByStudy: DataLoader<string, Slice[]>;
  readonly labelsByStudy: DataLoader<string, Label[]>;
  readonly labelsBySlice: DataLoader<string, Label[]>;
  readonly groundTruthBySlice: DataLoader<string, GroundTruthMask | null>;
  readonly resultsBySlice: DataLoader<string, SliceResult[]>;
  readonly jobsByStudy: DataLoader<string, SegmentationJob[]>;
  /** A job's results with sliceIndex > afterSliceIndex, in sliceIndex order. */
  readonly resultsByJob: DataLoader<JobResultsKey, SliceResult[], string>;
}

/** Key of {@link DataLoaders.resultsByJob}. */
export interface JobResultsKey {
  readonly jobId: string;
  readonly afterSliceIndex: number;
}

function many<V>(fetch: (keys: readonly string[]) => Promise<Map<string, V[]>>): DataLoader<string, V[]> {
  return new DataLoader(async (keys) => {
    const found = await fetch(keys);
    return keys.map((k) => found.get(k) ?? []);
  });
}

function one<V>(fetch: (keys: readonly string[]) => Promise<Map<string, V>>): DataLoader<string, V | null> {
  return new DataLoader(async (keys) => {
    const found = await fetch(keys);
    return keys.map((k) => found.get(k) ?? null);
  });
}

/**
 * One read for every (job, afterSliceIndex) of a batch: each job is read once from the lowest bound
 * asked for it, and each key keeps only its own results.
 */
function resultsByJob(fetch: (afterSliceIndexByJob: ReadonlyMap<string, number>) => Promise<Map<string, SliceResult[]>>): DataLoader<JobResultsKey, SliceResult[], string> {
  return new DataLoader(
    async (keys) => {
      const lowest = new Map<string, number>();
      for (const { jobId, afterSliceIndex } of keys) lowest.set(jobId, Math.min(afterSliceIndex, lowest.get(jobId) ?? Infinity));
      const found = await fetch(lowest);
      return keys.map(({ jobId, afterSliceIndex }) => (found.get(jobId) ?? []).filter((r) => r.sliceIndex > afterSliceIndex));
    },
    { cacheKeyFn: (k) => `${k.jobId}:${k.afterSliceIndex}` },
  );
}

/** Creates the loaders for one request made by `principal`. */
export function createDataLoaders(services: ApiServices, principal: Principal | null): DataLoaders {
  const { studies, segmentation } = services;
  return {
    studyById: one((ids) => studies.studiesById(principal, ids)),
    seriesByStudy: many((ids) => studies.seriesByStudy(principal, ids)),
    slicesByStudy: many((ids) => studies.slicesByStudy(principal, ids)),
    labelsByStudy: many((ids) => studies.labelsByStudy(principal, ids)),
    labelsBySlice: many((ids) => studies.labelsBySlice(principal, ids)),
    groundTruthBySlice: one((ids) => studies.groundTruthBySlice(principal, ids)),
    resultsBySlice: many((ids) => segmentation.resultsBySlice(principal, ids)),
    jobsByStudy: many((ids) => segmentation.jobsByStudy(principal, ids)),
    resultsByJob: resultsByJob((bounds) => segmentation.resultsByJob(principal, bounds)),
  };
}

/**
 * Forgets every cached value. A subscription keeps one context (and so one set of loaders) for
 * its whole life: each event clears them first, so it reads the rows as they are now.
 */
export function clearDataLoaders(loaders: DataLoaders): void {
  for (const loader of Object.values(loaders) as DataLoader<unknown, unknown, unknown>[]) loader.clearAll();
}

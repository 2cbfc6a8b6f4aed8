// Resolvers of schema/segmentation.graphql: jobs, results, models and the job subscription.
import { evaluateJobResults } from "../core/domain/job-evaluation.ts";
import { jobMasksPath } from "../core/domain/segmentation-job.ts";
import type { JobUpdate } from "../core/services/segmentation.service.ts";
import type { Resolvers } from "../generated/graphql/resolvers-types.ts";
import { clearDataLoaders } from "./data-loaders.ts";
import type { GraphQLContext } from "./graphql-context.ts";

/** Segmentation job, result and model resolvers. */
export const segmentationResolvers: Resolvers = {
  Query: {
    segmentationJob: (_p, args, ctx) => ctx.services.segmentation.getJob(ctx.principal, args.id),
    models: (_p, _a, ctx) => ctx.services.segmentation.listModels(ctx.principal),
  },
  Mutation: {
    requestSegmentation: async (_p, { input }, ctx) => ({
      job: await ctx.services.segmentation.requestSegmentation(ctx.principal, {
        studyId: input.studyId, method: input.method, modelKey: input.modelKey ?? null, sliceIds: input.sliceIds ?? null,
        params: (input.params ?? null) as Record<string, unknown> | null,
      }),
    }),
    cancelSegmentationJob: async (_p, { input }, ctx) => ({ job: await ctx.services.segmentation.cancelJob(ctx.principal, input.id) }),
  },
  Subscription: {
    segmentationJobUpdated: {
      subscribe: async (_p, args, ctx) => {
        const updates = await ctx.services.segmentation.watchJob(ctx.principal, args.jobId, args.afterSlice ?? -1);
        return wrap(updates);
      },
      resolve: (payload: { segmentationJobUpdated: JobUpdate }, _a: unknown, ctx: GraphQLContext) => {
        clearDataLoaders(ctx.loaders);
        return payload.segmentationJobUpdated;
      },
    },
  },
  SegmentationJob: {
    study: (job, _a, ctx) => ctx.loaders.studyById.load(job.studyId),
    results: (job, args, ctx) => ctx.loaders.resultsByJob.load({ jobId: job.id, afterSliceIndex: args.afterSlice ?? -1 }),
    masksPath: (job) => jobMasksPath(job.id),
    evaluation: async (job, _a, ctx) => {
      const results = await ctx.loaders.resultsByJob.load({ jobId: job.id, afterSliceIndex: -1 });
      const truth = await ctx.loaders.groundTruthBySlice.loadMany(results.map((r) => r.sliceId));
      const bySlice = new Map(truth.flatMap((t) => (t && !(t instanceof Error) ? [[t.sliceId, t] as const] : [])));
      const e = evaluateJobResults(results, bySlice);
      if (!e) return null;
      const s = e.positive;
      return {
        slicesWithGroundTruth: e.slicesWithGroundTruth, positiveSlices: s?.slices ?? 0,
        truePositivePx: s?.tp ?? 0, falsePositivePx: s?.fp ?? 0, falseNegativePx: s?.fn ?? 0,
        pooledIoU: s?.pooledIoU ?? null, pooledDice: s?.pooledDice ?? null, meanIoU: s?.meanIoU ?? null, stdIoU: s?.stdIoU ?? null,
        falsePositiveSlices: e.falsePositiveSlices,
      };
    },
  },
  SliceResult: {
    maskRle: (r) => [...r.maskRle],
    bbox: (r) => [...r.bbox],
  },
};

async function* wrap(updates: AsyncIterable<JobUpdate>): AsyncGenerator<{ segmentationJobUpdated: JobUpdate }> {
  for await (const update of updates) yield { segmentationJobUpdated: update };
}

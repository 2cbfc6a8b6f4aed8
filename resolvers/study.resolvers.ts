// Resolvers of schema/study.graphql: thin — parse arguments, call one service, map the result.
import { encodeCursor } from "../core/domain/cursor.ts";
import { slicePreviewPath } from "../core/domain/slice.ts";
import type { Resolvers } from "../generated/graphql/resolvers-types.ts";
import { pageByPosition, toConnection } from "./connection.ts";

/** Largest `first` accepted by list fields. */
export const MAX_PAGE_SIZE = 500;

/** Study, series, slice and label resolvers. */
export const studyResolvers: Resolvers = {
  Query: {
    studies: async (_p, args, ctx) => {
      const page = await ctx.services.studies.listStudies(ctx.principal, args.filter ?? {}, args.first ?? 20, args.after ?? null);
      for (const s of page.items) ctx.loaders.studyById.prime(s.id, s);
      return toConnection(page.items, page.hasNextPage, (s) => encodeCursor([s.createdAt.toISOString(), s.id]));
    },
    study: (_p, args, ctx) => ctx.services.studies.getStudy(ctx.principal, args.id),
  },
  Mutation: {
    createStudy: async (_p, { input }, ctx) => ({ study: await ctx.services.studies.createStudy(ctx.principal, input) }),
    requestUpload: (_p, { input }, ctx) => ctx.services.studies.requestUpload(ctx.principal, input),
    importStudy: async (_p, { input }, ctx) => ({ study: await ctx.services.studies.importStudy(ctx.principal, input) }),
    importGroundTruth: (_p, { input }, ctx) => ctx.services.studies.importGroundTruth(ctx.principal, input),
    setLabels: async (_p, { input }, ctx) => ({
      labels: await ctx.services.studies.setLabels(ctx.principal, input.studyId, input.labels.map((l) => ({ sliceId: l.sliceId ?? null, value: l.value }))),
    }),
    deleteStudy: async (_p, { input }, ctx) => ({ deletedStudyId: await ctx.services.studies.deleteStudy(ctx.principal, input.id) }),
  },
  Study: {
    series: (study, _a, ctx) => ctx.loaders.seriesByStudy.load(study.id),
    slices: async (study, args, ctx) => pageByPosition(await ctx.loaders.slicesByStudy.load(study.id), args.first ?? 100, args.after, MAX_PAGE_SIZE),
    labels: (study, _a, ctx) => ctx.loaders.labelsByStudy.load(study.id),
    studyLabel: async (study, _a, ctx) => (await ctx.loaders.labelsByStudy.load(study.id)).filter((l) => l.sliceId === null).at(-1)?.value ?? null,
    segmentationJobs: (study, _a, ctx) => ctx.loaders.jobsByStudy.load(study.id),
  },
  Series: {
    dimsIJK: (s) => [...s.dimsIJK],
    spacingMm: (s) => [...s.spacingMm],
    originLPS: (s) => [...s.originLPS],
    directionLPS: (s) => [...s.directionLPS],
  },
  Slice: {
    spacingMm: (s) => [...s.spacingMm],
    positionLPS: (s) => [...s.positionLPS],
    labels: (slice, _a, ctx) => ctx.loaders.labelsBySlice.load(slice.id),
    label: async (slice, _a, ctx) => (await ctx.loaders.labelsBySlice.load(slice.id)).at(-1)?.value ?? null,
    groundTruth: (slice, _a, ctx) => ctx.loaders.groundTruthBySlice.load(slice.id),
    results: (slice, _a, ctx) => ctx.loaders.resultsBySlice.load(slice.id),
    previewPath: (slice) => slicePreviewPath(slice.id),
  },
  GroundTruthMask: {
    rle: (m) => [...m.rle],
  },
};

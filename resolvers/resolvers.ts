// The complete resolver map, merged from the per-aggregate files.
import type { Resolvers } from "../generated/graphql/resolvers-types.ts";
import { commonResolvers } from "./common.resolvers.ts";
import { segmentationResolvers } from "./segmentation.resolvers.ts";
import { studyResolvers } from "./study.resolvers.ts";

/** Every resolver, keyed by type then field. */
export const resolvers: Resolvers = {
  ...commonResolvers,
  ...studyResolvers,
  ...segmentationResolvers,
  Query: { ...commonResolvers.Query, ...studyResolvers.Query, ...segmentationResolvers.Query },
  Mutation: { ...studyResolvers.Mutation, ...segmentationResolvers.Mutation },
  Subscription: { ...segmentationResolvers.Subscription },
};

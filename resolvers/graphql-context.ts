// What every resolver receives: the caller, the core services and per-request DataLoaders.
import type { Principal } from "../core/domain/principal.ts";
import type { SegmentationService } from "../core/services/segmentation.service.ts";
import type { StudyService } from "../core/services/study.service.ts";
import type { DataLoaders } from "./data-loaders.ts";

/** The core services the API calls. */
export interface ApiServices {
  readonly studies: StudyService;
  readonly segmentation: SegmentationService;
}

/** Per-request (or per-subscription) GraphQL context. */
export interface GraphQLContext {
  /** Null when the request carried no credentials. */
  readonly principal: Principal | null;
  readonly services: ApiServices;
  readonly loaders: DataLoaders;
  /** Correlates log lines of one request. */
  readonly requestId: string;
}

// Domain enumerations, shared by the database schema (prisma/schema.prisma) and the GraphQL schema.

/** Roles inside an organisation, weakest first. */
export const ROLES = ["VIEWER", "ANNOTATOR", "ADMIN"] as const;
/** A role inside an organisation. */
export type Role = (typeof ROLES)[number];

/** Image-level label values. */
export const LABEL_VALUES = ["NORMAL", "ABNORMAL"] as const;
/** An image-level label. */
export type LabelValue = (typeof LABEL_VALUES)[number];

/** Study lifecycle: EMPTY until pixels are imported, then READY. */
export const STUDY_STATUSES = ["EMPTY", "READY"] as const;
/** A study's status. */
export type StudyStatus = (typeof STUDY_STATUSES)[number];

/** Kinds of registered model. */
export const MODEL_KINDS = ["CLASSIFIER", "COIN_GENERATOR", "SINGLA_GENERATOR"] as const;
/** A model kind. */
export type ModelKind = (typeof MODEL_KINDS)[number];

/** Segmentation methods (DESIGN.md §1). */
export const SEGMENTATION_METHODS = ["COIN", "RISE", "SCORE_CAM", "LAYER_CAM", "SINGLA"] as const;
/** A segmentation method. */
export type SegmentationMethod = (typeof SEGMENTATION_METHODS)[number];

/** Segmentation job statuses. */
export const JOB_STATUSES = ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"] as const;
/** A segmentation job status. */
export type JobStatus = (typeof JOB_STATUSES)[number];

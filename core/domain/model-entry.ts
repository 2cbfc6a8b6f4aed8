// A registered model (models/<key>/model.json, see docs/MODEL-SPEC.md).
import type { ModelKind } from "./enums.ts";

/** A model registry entry. `spec` is the model.json document. */
export interface ModelEntry {
  readonly id: string;
  readonly key: string;
  readonly kind: ModelKind;
  readonly version: string;
  readonly sha256: string;
  readonly spec: Readonly<Record<string, unknown>>;
}

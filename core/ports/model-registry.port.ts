// Lookup of registered models by key (DESIGN.md §4: models are data).
import type { ModelEntry } from "../domain/model-entry.ts";

/** The model registry (adapters/prisma/prisma-model-registry.ts). */
export interface ModelRegistry {
  findByKey(key: string): Promise<ModelEntry | null>;
  list(): Promise<ModelEntry[]>;
  /** Inserts or replaces the entry with the same key. */
  register(entry: Omit<ModelEntry, "id">): Promise<ModelEntry>;
}

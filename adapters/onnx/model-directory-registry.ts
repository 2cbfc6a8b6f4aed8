// Models as data: reads models/<key>/model.json + model.onnx from a directory and verifies them.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ModelEntry } from "../../core/domain/model-entry.ts";
import { DomainError } from "../../core/errors/domain-error.ts";
import type { ModelRegistry } from "../../core/ports/model-registry.port.ts";
import { InferenceError } from "../../workers/errors/inference-error.ts";
import { parseModelSpec, type ModelSpec } from "../../workers/engine/model-spec.ts";

/** A model whose graph bytes passed the integrity check. */
export interface VerifiedModel {
  readonly spec: ModelSpec;
  /** Absolute or root-relative path of models/<key>/. */
  readonly directory: string;
  /** The graph file's bytes (hash equal to spec.sha256). */
  readonly graph: Uint8Array;
}

const KEY_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

/**
 * The file-system model registry: `<rootDir>/<key>/model.json` (docs/MODEL-SPEC.md) and the graph
 * file it names. Read-only: models are added by copying directories (training exports them).
 * Also serves core's {@link ModelRegistry} read side (`findByKey`, `list`) for composition roots
 * that have no database registry.
 */
export class ModelDirectoryRegistry implements ModelRegistry {
  /** @param rootDir the folder holding one sub-folder per model key (e.g. "models") */
  constructor(readonly rootDir: string) {}

  /**
   * Reads and validates `<rootDir>/<key>/model.json`.
   * @throws InferenceError MODEL_NOT_FOUND (malformed key or no model.json), MODEL_SPEC_INVALID.
   */
  async spec(key: string): Promise<ModelSpec> {
    const dir = this.directoryOf(key);
    let text: string;
    try {
      text = await readFile(join(dir, "model.json"), "utf8");
    } catch (error) {
      throw new InferenceError("MODEL_NOT_FOUND", `model ${key} is not registered (no ${dir}/model.json)`, { cause: error });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new InferenceError("MODEL_SPEC_INVALID", `model ${key}: model.json is not JSON`, { cause: error });
    }
    return parseModelSpec(json, key);
  }

  /**
   * Reads the spec and the graph file and checks the graph's SHA-256 (and byte size, when declared)
   * against the spec. A model that fails is never handed to a runtime.
   * @throws InferenceError MODEL_NOT_FOUND, MODEL_SPEC_INVALID, MODEL_INTEGRITY_FAILED (hash or size
   *   mismatch, or the graph file is missing).
   */
  async load(key: string): Promise<VerifiedModel> {
    const spec = await this.spec(key);
    const directory = this.directoryOf(key);
    let graph: Uint8Array;
    try {
      graph = await readFile(join(directory, spec.file));
    } catch (error) {
      throw new InferenceError("MODEL_INTEGRITY_FAILED", `model ${key}: graph file ${spec.file} is missing`, { cause: error });
    }
    const sha256 = createHash("sha256").update(graph).digest("hex");
    if (sha256 !== spec.sha256 || (spec.bytes !== undefined && spec.bytes !== graph.byteLength)) {
      throw new InferenceError(
        "MODEL_INTEGRITY_FAILED",
        `model ${key}: ${spec.file} has sha256 ${sha256} (${graph.byteLength} bytes), model.json declares ${spec.sha256}` +
          (spec.bytes !== undefined ? ` (${spec.bytes} bytes)` : ""),
      );
    }
    return { spec, directory, graph };
  }

  /** Keys of every directory under the root that holds a model.json, sorted. */
  async keys(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.rootDir);
    } catch {
      return [];
    }
    const keys: string[] = [];
    for (const name of entries.sort()) {
      if (!KEY_PATTERN.test(name)) continue;
      try {
        await readFile(join(this.rootDir, name, "model.json"));
        keys.push(name);
      } catch {
        // not a model directory
      }
    }
    return keys;
  }

  /** Core port: the entry of `key`, or null when it is not registered (spec errors still throw). */
  async findByKey(key: string): Promise<ModelEntry | null> {
    try {
      return toEntry(await this.spec(key));
    } catch (error) {
      if (error instanceof InferenceError && error.code === "MODEL_NOT_FOUND") return null;
      throw error;
    }
  }

  /** Core port: every valid model (invalid directories are skipped). */
  async list(): Promise<ModelEntry[]> {
    const out: ModelEntry[] = [];
    for (const key of await this.keys()) {
      try {
        out.push(toEntry(await this.spec(key)));
      } catch {
        // an invalid model.json is reported when the model is used, not when listing
      }
    }
    return out;
  }

  /**
   * Core port: not supported, the directory registry is read-only.
   * @throws DomainError INVALID_STATE always.
   */
  async register(_entry: Omit<ModelEntry, "id">): Promise<ModelEntry> {
    throw new DomainError("INVALID_STATE", "the model directory registry is read-only; copy a model directory instead");
  }

  private directoryOf(key: string): string {
    if (!KEY_PATTERN.test(key)) throw new InferenceError("MODEL_NOT_FOUND", `model key ${JSON.stringify(key)} is malformed`);
    return join(this.rootDir, key);
  }
}

function toEntry(spec: ModelSpec): ModelEntry {
  return { id: spec.key, key: spec.key, kind: spec.kind, version: spec.version, sha256: spec.sha256, spec: spec.raw };
}

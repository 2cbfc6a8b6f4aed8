// The InferenceEngine on onnxruntime-node: one cached session per model, configured providers with CPU fallback.
import * as ort from "onnxruntime-node";
import { InferenceError } from "../../workers/errors/inference-error.ts";
import type { Float32Tensor } from "../../workers/engine/float32-tensor.ts";
import { elementCount } from "../../workers/engine/float32-tensor.ts";
import type { InferenceEngine } from "../../workers/engine/inference-engine.port.ts";
import type { ModelSpec } from "../../workers/engine/model-spec.ts";
import type { ModelDirectoryRegistry } from "./model-directory-registry.ts";

/** Execution providers this adapter knows, in the order they are tried. */
export type ExecutionProviderName = "cuda" | "cpu";

/** The pino-compatible subset of a logger the engine writes to. */
export interface EngineLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Options of {@link OnnxInferenceEngine}; read from configuration by the composition root. */
export interface OnnxEngineOptions {
  /** Where models come from. */
  readonly registry: Pick<ModelDirectoryRegistry, "load" | "spec">;
  /**
   * Providers to request, first preferred (default ["cpu"]). With ["cuda", "cpu"] a session is
   * created on CUDA when the CUDA provider loads; otherwise the failure is logged (warn) and the
   * session is created on CPU alone.
   */
  readonly executionProviders?: readonly ExecutionProviderName[];
  /** ONNX Runtime intra-op threads per session (default 0 = ONNX Runtime's choice, all cores). */
  readonly intraOpNumThreads?: number;
  /**
   * Let each session's intra-op threads spin-wait for work after a run (ONNX Runtime's own default,
   * `session.intra_op.allow_spinning`). Default false here: every model has its own session and
   * thread pool, and a pipeline runs several models in turn (classifier, generator, classifier), so
   * one pool's spinning threads take the cores from the next session's threads. Measured
   * (docs/SCALING.md §1, 2 cores, 2 threads, batch 1): kidney-blob COIN 111 → 55.7 ms per slice
   * without spinning; RISE, one session run many times in a row, is the one method that gains from it.
   * No effect with one thread (no pool threads).
   */
  readonly allowSpinning?: boolean;
  readonly logger?: EngineLogger;
}

interface CachedSession {
  readonly session: ort.InferenceSession;
  readonly spec: ModelSpec;
  readonly provider: ExecutionProviderName;
}

/**
 * Runs models with onnxruntime-node. Each model's session is created on first use (after the
 * registry's sha256 check) and reused for every later call; concurrent first calls share one
 * creation. Inputs keep their batch dimension, so a whole batch runs in one `session.run`.
 *
 * Errors: MODEL_NOT_FOUND, MODEL_SPEC_INVALID, MODEL_INTEGRITY_FAILED from the registry;
 * MODEL_SPEC_INVALID when the graph's input/output names differ from model.json;
 * INVALID_METHOD_INPUT for missing inputs, a data length that does not match `dims`, or dims that
 * do not fit the input's shape in model.json (−1 = any size);
 * INFERENCE_FAILED when ONNX Runtime fails.
 */
export class OnnxInferenceEngine implements InferenceEngine {
  private readonly sessions = new Map<string, Promise<CachedSession>>();
  private readonly providers: readonly ExecutionProviderName[];

  constructor(private readonly options: OnnxEngineOptions) {
    this.providers = options.executionProviders?.length ? options.executionProviders : ["cpu"];
    const threads = options.intraOpNumThreads ?? 0;
    if (!Number.isInteger(threads) || threads < 0) {
      throw new InferenceError("INVALID_METHOD_INPUT", `intraOpNumThreads ${threads} must be a non-negative integer`);
    }
  }

  /** Number of sessions created so far (each model at most once). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** The spec of a model whose session exists or can be created (runs the integrity check). */
  async spec(modelKey: string): Promise<ModelSpec> {
    return (await this.session(modelKey)).spec;
  }

  /** The provider a model's session actually runs on ("cuda", or "cpu" after a fallback). */
  async providerOf(modelKey: string): Promise<ExecutionProviderName> {
    return (await this.session(modelKey)).provider;
  }

  async run(
    modelKey: string,
    inputs: Readonly<Record<string, Float32Tensor>>,
    outputNames?: readonly string[],
  ): Promise<Record<string, Float32Tensor>> {
    const { session, spec } = await this.session(modelKey);
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of spec.inputs) {
      const t = inputs[input.name];
      if (!t) throw new InferenceError("INVALID_METHOD_INPUT", `model ${modelKey} needs input ${input.name}`);
      if (t.data.length !== elementCount(t.dims)) {
        throw new InferenceError("INVALID_METHOD_INPUT", `input ${input.name} has ${t.data.length} values for dims [${t.dims.join(", ")}]`);
      }
      // model.json's shape is the contract: every fixed dimension must match (−1 = dynamic).
      if (t.dims.length !== input.shape.length || input.shape.some((d, k) => d !== -1 && d !== t.dims[k])) {
        throw new InferenceError("INVALID_METHOD_INPUT", `input ${input.name} dims [${t.dims.join(", ")}] do not fit model.json [${input.shape.join(", ")}]`);
      }
      feeds[input.name] = new ort.Tensor("float32", t.data, t.dims);
    }
    const fetches = outputNames ?? spec.outputs.map((o) => o.name);
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await session.run(feeds, fetches as string[]);
    } catch (error) {
      throw new InferenceError("INFERENCE_FAILED", `model ${modelKey} failed: ${(error as Error).message}`, { cause: error });
    }
    const out: Record<string, Float32Tensor> = {};
    for (const name of fetches) {
      const value = results[name] as ort.Tensor | undefined;
      if (!value || value.type !== "float32") throw new InferenceError("INFERENCE_FAILED", `model ${modelKey} returned no float32 ${name}`);
      out[name] = { data: value.data as Float32Array, dims: [...value.dims] };
    }
    return out;
  }

  /** Releases every session (the engine can be used again: sessions are recreated on demand). */
  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const pending of all) {
      try {
        await (await pending).session.release();
      } catch {
        // a session that failed to create has nothing to release
      }
    }
  }

  private session(modelKey: string): Promise<CachedSession> {
    let pending = this.sessions.get(modelKey);
    if (!pending) {
      pending = this.createSession(modelKey);
      this.sessions.set(modelKey, pending);
      // A failed creation is not cached: the next call tries again (e.g. after the file is fixed).
      pending.catch(() => this.sessions.delete(modelKey));
    }
    return pending;
  }

  private async createSession(modelKey: string): Promise<CachedSession> {
    const { spec, graph } = await this.options.registry.load(modelKey);
    const base: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: this.options.intraOpNumThreads ?? 0,
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
      extra: { "session.intra_op.allow_spinning": this.options.allowSpinning ? "1" : "0" },
    };
    let session: ort.InferenceSession | undefined;
    let provider: ExecutionProviderName = "cpu";
    const accelerated = this.providers.filter((p) => p !== "cpu");
    for (const name of accelerated) {
      try {
        // ONNX Runtime logs a missing provider library at error level; the warn below is ours.
        session = await ort.InferenceSession.create(graph, { ...base, logSeverityLevel: 4, executionProviders: [name] });
        provider = name;
        break;
      } catch (error) {
        this.options.logger?.warn(
          { modelKey, provider: name, error: (error as Error).message },
          `execution provider ${name} unavailable; falling back`,
        );
      }
    }
    if (!session) {
      try {
        session = await ort.InferenceSession.create(graph, { ...base, executionProviders: ["cpu"] });
      } catch (error) {
        throw new InferenceError("MODEL_SPEC_INVALID", `model ${modelKey}: ONNX Runtime cannot load the graph: ${(error as Error).message}`, { cause: error });
      }
      if (!this.providers.includes("cpu")) {
        this.options.logger?.warn({ modelKey, provider: "cpu" }, "no configured execution provider loaded; running on cpu");
      }
    }
    const problems: string[] = [];
    const names = (list: readonly { name: string }[]) => list.map((t) => t.name).sort().join(",");
    if ([...session.inputNames].sort().join(",") !== names(spec.inputs)) problems.push(`graph inputs [${session.inputNames.join(", ")}]`);
    if ([...session.outputNames].sort().join(",") !== names(spec.outputs)) problems.push(`graph outputs [${session.outputNames.join(", ")}]`);
    if (problems.length > 0) {
      await session.release();
      throw new InferenceError("MODEL_SPEC_INVALID", `model ${modelKey}: ${problems.join(" and ")} differ from model.json`);
    }
    this.options.logger?.info({ modelKey, provider, intraOpNumThreads: base.intraOpNumThreads, allowSpinning: this.options.allowSpinning ?? false }, "inference session created");
    return { session, spec, provider };
  }
}

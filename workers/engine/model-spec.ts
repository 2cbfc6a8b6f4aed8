// The model.json document (docs/MODEL-SPEC.md), validated: the only thing workers read besides model.onnx.
import { z } from "zod";
import type { ModelKind } from "../../core/domain/enums.ts";
import { parsePreprocessSpec, type PreprocessSpec } from "../../imaging/preprocess/preprocess-spec.ts";
import { InferenceError } from "../errors/inference-error.ts";

/** One graph input or output: name, shape (−1 = dynamic, e.g. the batch), dtype. */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: "float32";
}

/** Thresholds a model carries (defaults from DESIGN.md §1 when model.json omits them). */
export interface ModelThresholds {
  /** COIN/Singla mask rule: diff = |x − x_cf| / 2 > mask (default 0.25, on the [0, 1] scale). */
  readonly mask: number;
  /** Saliency methods: min-max normalised map > saliency (default 0.975). */
  readonly saliency: number;
  /** P(abnormal) above which a slice is called abnormal (default 0.5). */
  readonly abnormal: number;
  /** Counterfactual-validity τ (default 0.8). */
  readonly cvTau: number;
  /**
   * Generators, optional: the lower threshold of the refined mask (`refine`: hysteresis from `mask`
   * down to this, then the largest region), calibrated on the val split; ≤ mask.
   */
  readonly hysteresis?: number;
}

/** A parsed, validated model.json. */
export interface ModelSpec {
  readonly key: string;
  readonly kind: ModelKind;
  readonly version: string;
  readonly benchmark?: string;
  /** Generators: the frozen classifier they were trained against. */
  readonly classifierKey?: string;
  /** File name of the graph inside the model directory (default "model.onnx"). */
  readonly file: string;
  /** Lower-case hex SHA-256 of the graph file. */
  readonly sha256: string;
  /** Size of the graph file in bytes, when declared. */
  readonly bytes?: number;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly preprocess: PreprocessSpec;
  /** CLASSIFIER only: the CAM target layer, shape [C, h, w]. */
  readonly targetLayer?: { readonly name: string; readonly shape: readonly [number, number, number] };
  readonly thresholds: ModelThresholds;
  /** Golden tensors for parity tests: name → file (relative to the model directory) and shape. */
  readonly golden?: {
    readonly inputs: Readonly<Record<string, { readonly file: string; readonly shape: readonly number[] }>>;
    readonly outputs: Readonly<Record<string, { readonly file: string; readonly shape: readonly number[] }>>;
  };
  /** The untouched document (training metrics etc.). */
  readonly raw: Readonly<Record<string, unknown>>;
}

const tensorSchema = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().min(-1)).min(1),
  dtype: z.literal("float32").default("float32"),
});
const goldenEntry = z.record(z.string(), z.object({ file: z.string().min(1), shape: z.array(z.number().int().positive()) }));

const specSchema = z.object({
  key: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  kind: z.enum(["CLASSIFIER", "COIN_GENERATOR", "SINGLA_GENERATOR"]),
  version: z.string().min(1),
  benchmark: z.string().optional(),
  classifierKey: z.string().optional(),
  file: z.string().regex(/^[A-Za-z0-9._-]+$/).default("model.onnx"),
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/),
  bytes: z.number().int().nonnegative().optional(),
  inputs: z.array(tensorSchema).min(1),
  outputs: z.array(tensorSchema).min(1),
  preprocess: z.unknown(),
  targetLayer: z.object({ name: z.string(), shape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]) }).optional(),
  thresholds: z
    .object({
      mask: z.number().gt(0).lt(1).default(0.25),
      saliency: z.number().gt(0).lt(1).default(0.975),
      abnormal: z.number().gt(0).lt(1).default(0.5),
      cvTau: z.number().gt(0).lt(1).default(0.8),
      hysteresis: z.number().gt(0).lt(1).optional(),
    })
    .default({ mask: 0.25, saliency: 0.975, abnormal: 0.5, cvTau: 0.8 }),
  golden: z.object({ inputs: goldenEntry, outputs: goldenEntry }).optional(),
});

/** Input and output names each kind must declare (docs/MODEL-SPEC.md). */
const REQUIRED_IO: Readonly<Record<ModelKind, { inputs: readonly string[]; outputs: readonly string[] }>> = {
  CLASSIFIER: { inputs: ["x"], outputs: ["logit", "activations", "activations_grad"] },
  COIN_GENERATOR: { inputs: ["x"], outputs: ["x_cf"] },
  SINGLA_GENERATOR: { inputs: ["x", "condition"], outputs: ["x_cf"] },
};

/**
 * Validates an untrusted model.json document.
 *
 * Checks the fields of docs/MODEL-SPEC.md, that the kind's required inputs/outputs are declared
 * (CLASSIFIER: x → logit, activations, activations_grad; COIN_GENERATOR: x → x_cf;
 * SINGLA_GENERATOR: x, condition → x_cf), that `x` is [−1, 1, H, W] with H × W = preprocess.size,
 * and that a classifier's targetLayer (when given) matches its activations shape.
 *
 * @param value the parsed JSON
 * @param expectedKey when given, the spec's key must equal it (the directory name)
 * @throws InferenceError MODEL_SPEC_INVALID listing every problem found.
 */
export function parseModelSpec(value: unknown, expectedKey?: string): ModelSpec {
  const parsed = specSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new InferenceError("MODEL_SPEC_INVALID", `model.json is invalid: ${problems.join("; ")}`);
  }
  const s = parsed.data;
  let preprocess: PreprocessSpec;
  try {
    preprocess = parsePreprocessSpec(s.preprocess);
  } catch (error) {
    throw new InferenceError("MODEL_SPEC_INVALID", `model.json preprocess: ${(error as Error).message}`, { cause: error });
  }
  const problems: string[] = [];
  if (expectedKey !== undefined && s.key !== expectedKey) problems.push(`key ${s.key} does not match its directory ${expectedKey}`);
  const required = REQUIRED_IO[s.kind];
  for (const name of required.inputs) if (!s.inputs.some((t) => t.name === name)) problems.push(`missing input ${name}`);
  for (const name of required.outputs) if (!s.outputs.some((t) => t.name === name)) problems.push(`missing output ${name}`);
  const x = s.inputs.find((t) => t.name === "x");
  const [h, w] = preprocess.size;
  if (x && (x.shape.length !== 4 || x.shape[1] !== 1 || x.shape[2] !== h || x.shape[3] !== w)) {
    problems.push(`input x shape [${x.shape.join(", ")}] is not [-1, 1, ${h}, ${w}]`);
  }
  const act = s.outputs.find((t) => t.name === "activations");
  if (s.kind === "CLASSIFIER" && act && s.targetLayer && act.shape.slice(1).join(",") !== s.targetLayer.shape.join(",")) {
    problems.push(`targetLayer shape [${s.targetLayer.shape.join(", ")}] differs from activations [${act.shape.join(", ")}]`);
  }
  if (s.kind !== "CLASSIFIER" && !s.classifierKey) problems.push("generators need classifierKey");
  if (s.thresholds.hysteresis !== undefined && s.thresholds.hysteresis > s.thresholds.mask) {
    problems.push(`thresholds.hysteresis ${s.thresholds.hysteresis} is above thresholds.mask ${s.thresholds.mask}`);
  }
  if (problems.length > 0) throw new InferenceError("MODEL_SPEC_INVALID", `model.json ${s.key}: ${problems.join("; ")}`);
  return {
    key: s.key,
    kind: s.kind,
    version: s.version,
    ...(s.benchmark !== undefined ? { benchmark: s.benchmark } : {}),
    ...(s.classifierKey !== undefined ? { classifierKey: s.classifierKey } : {}),
    file: s.file,
    sha256: s.sha256.toLowerCase(),
    ...(s.bytes !== undefined ? { bytes: s.bytes } : {}),
    inputs: s.inputs,
    outputs: s.outputs,
    preprocess,
    ...(s.targetLayer ? { targetLayer: { name: s.targetLayer.name, shape: s.targetLayer.shape } } : {}),
    thresholds: (({ hysteresis, ...rest }) => (hysteresis !== undefined ? { ...rest, hysteresis } : rest))(s.thresholds),
    ...(s.golden ? { golden: s.golden } : {}),
    raw: value as Record<string, unknown>,
  };
}

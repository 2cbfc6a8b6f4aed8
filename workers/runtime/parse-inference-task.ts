// Validates a queue message body as an InferenceTaskV1 (the worker trusts nothing it receives).
import { z } from "zod";
import type { InferenceTaskV1 } from "../../core/domain/inference-task.ts";

const uuid = z.string().uuid();

const taskV1 = z.object({
  schemaVersion: z.literal(1),
  taskId: uuid,
  jobId: uuid,
  organizationId: uuid,
  studyId: uuid,
  sliceIds: z.array(uuid).min(1).max(1000),
  method: z.enum(["COIN", "SINGLA", "RISE", "SCORE_CAM", "LAYER_CAM"]),
  modelKey: z.string().min(1).max(200),
  params: z.record(z.string(), z.unknown()),
});

/** Outcome of {@link parseInferenceTask}. `ids` are whatever job/organisation ids could be read, so a bad task can still fail its job. */
export type ParsedTask =
  | { readonly ok: true; readonly task: InferenceTaskV1 }
  | { readonly ok: false; readonly problem: string; readonly ids: { jobId: string; organizationId: string } | null };

/** Parses and validates `body` (JSON text). Never throws. */
export function parseInferenceTask(body: string): ParsedTask {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, problem: "body is not JSON", ids: null };
  }
  const parsed = taskV1.safeParse(json);
  if (parsed.success) return { ok: true, task: parsed.data as InferenceTaskV1 };
  const loose = z.object({ jobId: uuid, organizationId: uuid }).safeParse(json);
  const problem = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
  return { ok: false, problem, ids: loose.success ? loose.data : null };
}

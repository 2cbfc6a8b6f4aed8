// Reads models/<key>/model.json files (docs/MODEL-SPEC.md) into registry entries.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { ModelEntry } from "../../core/domain/model-entry.ts";
import { MODEL_KINDS } from "../../core/domain/enums.ts";

const specSchema = z.looseObject({
  key: z.string().min(1),
  kind: z.enum(MODEL_KINDS),
  version: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/**
 * Lists the valid model.json files under `modelsDir` as registry entries (spec = the whole file).
 * Folders without a model.json are skipped; an invalid model.json is reported through `onInvalid`.
 */
export async function readModelDirectory(modelsDir: string, onInvalid: (file: string, problem: string) => void = () => {}): Promise<Omit<ModelEntry, "id">[]> {
  let names: string[];
  try {
    names = (await readdir(modelsDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const out: Omit<ModelEntry, "id">[] = [];
  for (const name of names) {
    const file = path.join(modelsDir, name, "model.json");
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch {
      continue;
    }
    const parsed = specSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      onInvalid(file, parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
      continue;
    }
    out.push({ key: parsed.data.key, kind: parsed.data.kind, version: parsed.data.version, sha256: parsed.data.sha256, spec: parsed.data });
  }
  return out;
}

// sha256 of every file under a folder: lets a test say "these files are byte-identical" or "untouched".
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/** sha256 (hex) of every file under `dir`, keyed by its path relative to `dir`. */
export async function fileHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = createHash("sha256").update(await readFile(file)).digest("hex");
  }
  return out;
}

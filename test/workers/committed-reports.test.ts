// The committed evaluation reports (reports/<benchmark>/) link only to files that are committed beside them.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../reports", import.meta.url));
const benchmarks = existsSync(root) ? readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : [];

describe("committed evaluation reports", () => {
  it("should exist for both benchmarks", () => {
    assert.deepEqual(benchmarks.filter((b) => b === "kidney-blob" || b === "kidney-lesion").sort(), ["kidney-blob", "kidney-lesion"]);
  });
  for (const benchmark of benchmarks) {
    it(`should find every image that ${benchmark}'s Markdown and HTML reports show`, () => {
      const dir = join(root, benchmark);
      const md = readFileSync(join(dir, "report.md"), "utf8");
      const html = readFileSync(join(dir, "report.html"), "utf8");
      const linked = new Set([...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g), ...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]!));
      assert.ok(linked.size > 0, "the reports show overlays");
      const missing = [...linked].filter((f) => !existsSync(join(dir, f)));
      assert.deepEqual(missing, []);
    });
  }
});

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { describeWindowMismatches, windowMismatches } from "../../workers/evaluation/window-check.ts";

describe("windowMismatches", () => {
  it("lists exactly the models whose window is not the dataset's", () => {
    const found = windowMismatches(
      [-7, 256],
      [
        { key: "clf", windowHU: [-7, 256] },
        { key: "coin", windowHU: [-3, 276] },
        { key: "singla", windowHU: [-7, 255] },
      ],
    );
    assert.deepEqual(
      found.map((m) => m.key),
      ["coin", "singla"],
    );
    assert.equal(
      describeWindowMismatches([-7, 256], found),
      "model coin maps [-3, 276] HU, the dataset [-7, 256] HU; model singla maps [-7, 255] HU, the dataset [-7, 256] HU",
    );
    assert.deepEqual(windowMismatches([-7, 256], [{ key: "clf", windowHU: [-7, 256] }]), []);
  });
});

describe("npm run eval with a dataset of another window", () => {
  const dir = mkdtempSync(join(tmpdir(), "coinseg-eval-window-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("is refused with WINDOW_MISMATCH before any slice is read, and writes no report", () => {
    // The committed kidney-blob models map their own window; this dataset claims another one and has
    // no manifest, so a run that got past the check would fail differently.
    writeFileSync(join(dir, "dataset.json"), JSON.stringify({ benchmark: "kidney-blob", windowHU: [0, 100] }));
    const out = join(dir, "report");
    const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/eval.ts", "--benchmark", "kidney-blob", "--data", dir, "--out", out, "--threads", "1"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /WINDOW_MISMATCH: model kidney-blob-classifier maps \[-?\d+, \d+\] HU, the dataset \[0, 100\] HU/);
    assert.match(r.stderr, /kidney-blob-coin/);
    assert.equal(existsSync(join(out, "report.md")), false);
  });
});

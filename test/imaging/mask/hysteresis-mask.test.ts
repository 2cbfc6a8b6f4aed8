import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { hysteresisMask } from "../../../imaging/mask/hysteresis-mask.ts";
import { cleanUpMask } from "../../../imaging/mask/clean-up-mask.ts";
import { refineMask } from "../../../imaging/mask/refine-mask.ts";
import { maskFromRows, maskToRows } from "./mask-fixture.ts";

describe("hysteresisMask", () => {
  it("should keep weak regions connected to a strong pixel and drop the others", () => {
    const weak = maskFromRows(["###...##", "#.#...##", "###.....", "......#."]);
    const strong = maskFromRows(["........", "..#.....", "........", "......#."]);
    assert.deepEqual(maskToRows(hysteresisMask(weak, strong)), ["###.....", "#.#.....", "###.....", "......#."]);
  });

  it("should follow corner-only contacts (8-connectivity)", () => {
    const weak = maskFromRows(["#...", ".#..", "..#.", "...#"]);
    const strong = maskFromRows(["#...", "....", "....", "...."]);
    assert.deepEqual(maskToRows(hysteresisMask(weak, strong)), ["#...", ".#..", "..#.", "...#"]);
  });

  it("should keep strong pixels the weak mask lacks", () => {
    const weak = maskFromRows(["....", ".##."]);
    const strong = maskFromRows(["#...", "...."]);
    assert.deepEqual(maskToRows(hysteresisMask(weak, strong)), ["#...", ".##."]);
  });

  it("should return an empty mask when no pixel is strong", () => {
    const weak = maskFromRows(["###", "###"]);
    assert.deepEqual(maskToRows(hysteresisMask(weak, maskFromRows(["...", "..."]))), ["...", "..."]);
  });

  it("should reject masks of different sizes with INVALID_ARGUMENT", () => {
    assert.throws(() => hysteresisMask(maskFromRows(["##"]), maskFromRows(["#", "#"])), { code: "INVALID_ARGUMENT" });
  });
});

describe("refineMask", () => {
  it("should grow into the weak halo and keep only the largest region", () => {
    // The left seed grows to 9 pixels; the right seed's region has 3; the unseeded weak bar goes.
    const weak = maskFromRows(["###..#....", "###..#..##", "###..#...."]);
    const strong = maskFromRows(["..........", ".#...#....", ".........."]);
    assert.deepEqual(maskToRows(refineMask(strong, weak)), ["###.......", "###.......", "###......."]);
  });

  it("should keep a two-pixel-thin region the paper's clean-up would open away", () => {
    const weak = maskFromRows(["......", ".####.", ".####.", "......"]);
    const strong = maskFromRows(["......", "..#...", "......", "......"]);
    assert.deepEqual(maskToRows(refineMask(strong, weak)), ["......", ".####.", ".####.", "......"]);
    assert.deepEqual(maskToRows(cleanUpMask(weak)), ["......", "......", "......", "......"]);
  });
});

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { largestComponent8 } from "../../../imaging/mask/largest-component.ts";
import { cleanUpMask } from "../../../imaging/mask/clean-up-mask.ts";
import { maskFromRows, maskToRows } from "./mask-fixture.ts";

describe("largestComponent8", () => {
  it("should join pixels that touch only at a corner when counting components", () => {
    // The diagonal of 3 pixels is one 8-connected component and beats the 2-pixel bar.
    const mask = maskFromRows(["#.....", ".#..##", "..#..."]);
    assert.deepEqual(maskToRows(largestComponent8(mask)), ["#.....", ".#....", "..#..."]);
  });

  it("should keep the first component in row-major order when two are equally large", () => {
    const mask = maskFromRows(["##..", "....", "..##"]);
    assert.deepEqual(maskToRows(largestComponent8(mask)), ["##..", "....", "...."]);
  });

  it("should return an empty mask when the input is empty", () => {
    assert.deepEqual(maskToRows(largestComponent8(maskFromRows(["...", "..."]))), ["...", "..."]);
  });
});

describe("cleanUpMask", () => {
  it("should drop specks, fill holes and keep only the largest region when given a noisy mask", () => {
    const mask = maskFromRows([
      "#.............",
      ".#######......",
      ".#######......",
      ".#######...###",
      ".###.###...###",
      ".#######...###",
      ".#######......",
      ".#######......",
      "..............",
    ]);
    assert.deepEqual(maskToRows(cleanUpMask(mask)), [
      "..............",
      ".#######......",
      ".#######......",
      ".#######......",
      ".#######......",
      ".#######......",
      ".#######......",
      ".#######......",
      "..............",
    ]);
  });
});

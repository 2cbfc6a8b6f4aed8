import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { close3x3, dilate3x3, erode3x3, open3x3 } from "../../../imaging/mask/morphology-3x3.ts";
import { maskFromRows, maskToRows } from "./mask-fixture.ts";

describe("3×3 morphology", () => {
  it("should shrink a 3×3 square to its centre when eroding", () => {
    const mask = maskFromRows([".....", ".###.", ".###.", ".###.", "....."]);
    assert.deepEqual(maskToRows(erode3x3(mask)), [".....", ".....", "..#..", ".....", "....."]);
  });

  it("should grow a single pixel to a 3×3 square when dilating", () => {
    const mask = maskFromRows([".....", ".....", "..#..", ".....", "....."]);
    assert.deepEqual(maskToRows(dilate3x3(mask)), [".....", ".###.", ".###.", ".###.", "....."]);
  });

  it("should remove a speck and a 1-px spur but keep a 3×3 block when opening", () => {
    const mask = maskFromRows(["#.......", "........", "..###...", "..######", "..###...", "........"]);
    assert.deepEqual(maskToRows(open3x3(mask)), [
      "........",
      "........",
      "..###...",
      "..###...",
      "..###...",
      "........",
    ]);
  });

  it("should fill a 1-px hole and bridge a 1-px gap without growing a border frame when closing", () => {
    const mask = maskFromRows([".......", ".###.#.", ".#.#.#.", ".###.#.", "......."]);
    assert.deepEqual(maskToRows(close3x3(mask)), [".......", ".#####.", ".#####.", ".#####.", "......."]);
  });

  it("should treat outside pixels as background when the foreground touches the border", () => {
    const mask = maskFromRows(["###..", "###..", "###.."]);
    assert.deepEqual(maskToRows(erode3x3(mask)), [".....", ".#...", "....."]);
    assert.deepEqual(maskToRows(dilate3x3(mask)), ["####.", "####.", "####."]);
    assert.deepEqual(maskToRows(open3x3(mask)), ["###..", "###..", "###.."]);
    assert.deepEqual(maskToRows(close3x3(mask)), ["###..", "###..", "###.."]);
  });

  it("should equal scipy.ndimage opening and closing on a 2-px background-padded mask when the mask is random", () => {
    // References: scipy.ndimage.binary_opening/closing(np.pad(m, 2), structure=np.ones((3, 3)))[2:-2, 2:-2].
    const mask = maskFromRows([
      ".###.......",
      "#.#.#..####",
      "...#.....##",
      "..#...#.#.#",
      "#.#.#..#.##",
      "#..#####.#.",
      "#.##..#..#.",
      ".......#...",
      "#...#...#..",
    ]);
    assert.deepEqual(maskToRows(open3x3(mask)), new Array(9).fill("..........."));
    assert.deepEqual(maskToRows(close3x3(mask)), [
      ".###.......",
      "###########",
      "###########",
      "###########",
      "###########",
      "##########.",
      "##########.",
      "#...#####..",
      "#...#...#..",
    ]);
  });

  it("should not modify its input when filtering", () => {
    const mask = maskFromRows(["#..", "...", "..."]);
    open3x3(mask);
    assert.deepEqual(maskToRows(mask), ["#..", "...", "..."]);
  });
});

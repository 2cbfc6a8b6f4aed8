import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { minMaxNormalize } from "../../../imaging/mask/min-max-normalize.ts";
import { DEFAULT_SALIENCY_THRESHOLD, thresholdMap } from "../../../imaging/mask/threshold-map.ts";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";

describe("minMaxNormalize", () => {
  it("should map the minimum to 0 and the maximum to 1 when values vary", () => {
    assert.deepEqual(Array.from(minMaxNormalize([2, 4, 6, 10])), [0, 0.25, 0.5, 1]);
  });

  it("should return zeros when the map is constant", () => {
    assert.deepEqual(Array.from(minMaxNormalize(new Float32Array([3, 3, 3]))), [0, 0, 0]);
  });

  it("should throw INVALID_ARGUMENT when the map contains NaN", () => {
    assert.throws(() => minMaxNormalize([0, Number.NaN]), (e) => isImagingError(e, "INVALID_ARGUMENT"));
  });
});

describe("thresholdMap", () => {
  it("should use a strict > 0.975 by default when thresholding a saliency map", () => {
    assert.equal(DEFAULT_SALIENCY_THRESHOLD, 0.975);
    const mask = thresholdMap(new Float32Array([0.5, 0.975, 0.98, 1]), 2, 2);
    assert.deepEqual(Array.from(mask.data), [0, 0, 1, 1]);
  });

  it("should compare in float64 when the map is a plain array", () => {
    assert.deepEqual(Array.from(thresholdMap([0.975, Math.fround(0.975)], 2, 1).data), [0, 1]);
  });

  it("should apply a given threshold when thresholding a difference map", () => {
    assert.deepEqual(Array.from(thresholdMap([0.1, 0.25, 0.3], 3, 1, 0.25).data), [0, 0, 1]);
  });

  it("should throw INVALID_ARGUMENT when the map length does not match the size", () => {
    assert.throws(() => thresholdMap([1, 2, 3], 2, 2), (e) => isImagingError(e, "INVALID_ARGUMENT"));
  });
});

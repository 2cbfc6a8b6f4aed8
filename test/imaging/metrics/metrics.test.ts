import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { confusionCounts } from "../../../imaging/metrics/confusion-counts.ts";
import { diceScore, iouScore } from "../../../imaging/metrics/overlap-scores.ts";
import { summariseSegmentation } from "../../../imaging/metrics/segmentation-summary.ts";
import { counterfactualValidity } from "../../../imaging/metrics/counterfactual-validity.ts";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";
import { maskFromRows } from "../mask/mask-fixture.ts";

describe("confusionCounts", () => {
  it("should count TP, FP, FN and TN pixel by pixel when masks partly overlap", () => {
    const predicted = maskFromRows(["##..", "##..", "...."]);
    const truth = maskFromRows([".##.", ".##.", "...."]);
    assert.deepEqual(confusionCounts(predicted, truth), { tp: 2, fp: 2, fn: 2, tn: 6 });
  });

  it("should throw INVALID_ARGUMENT when the masks have different sizes", () => {
    assert.throws(
      () => confusionCounts(maskFromRows(["##"]), maskFromRows(["#", "#"])),
      (e) => isImagingError(e, "INVALID_ARGUMENT"),
    );
  });
});

describe("iouScore / diceScore", () => {
  it("should give 1/3 and 1/2 when TP = FP = FN", () => {
    assert.equal(iouScore({ tp: 2, fp: 2, fn: 2 }), 1 / 3);
    assert.equal(diceScore({ tp: 2, fp: 2, fn: 2 }), 0.5);
  });

  it("should give 1 when both masks are empty", () => {
    assert.equal(iouScore({ tp: 0, fp: 0, fn: 0 }), 1);
    assert.equal(diceScore({ tp: 0, fp: 0, fn: 0 }), 1);
  });
});

describe("summariseSegmentation", () => {
  it("should pool counts before dividing when slices differ in size", () => {
    // Slice A: TP 8, FP 2, FN 0 → IoU 0.8, Dice 16/18. Slice B: TP 0, FP 0, FN 2 → IoU 0, Dice 0.
    // Pooled: TP 8, FP 2, FN 2 → IoU 8/12, Dice 16/20. Per-slice IoU mean 0.4, std 0.4.
    const s = summariseSegmentation([
      { tp: 8, fp: 2, fn: 0, tn: 90 },
      { tp: 0, fp: 0, fn: 2, tn: 98 },
    ]);
    assert.equal(s.slices, 2);
    assert.deepEqual([s.tp, s.fp, s.fn], [8, 2, 2]);
    assert.equal(s.pooledIoU, 8 / 12);
    assert.equal(s.pooledDice, 0.8);
    assert.ok(Math.abs(s.meanIoU - 0.4) < 1e-12);
    assert.ok(Math.abs(s.stdIoU - 0.4) < 1e-12);
    assert.ok(Math.abs(s.meanDice - 8 / 18) < 1e-12);
    assert.ok(Math.abs(s.stdDice - 8 / 18) < 1e-12);
  });

  it("should report zero spread when every slice scores the same", () => {
    const s = summariseSegmentation([
      { tp: 1, fp: 1, fn: 0, tn: 0 },
      { tp: 3, fp: 0, fn: 3, tn: 0 },
    ]);
    assert.equal(s.meanIoU, 0.5);
    assert.equal(s.stdIoU, 0);
    assert.equal(s.pooledIoU, 4 / 8);
  });

  it("should throw INVALID_ARGUMENT when the set is empty or a count is negative", () => {
    assert.throws(() => summariseSegmentation([]), (e) => isImagingError(e, "INVALID_ARGUMENT"));
    assert.throws(
      () => summariseSegmentation([{ tp: -1, fp: 0, fn: 0, tn: 0 }]),
      (e) => isImagingError(e, "INVALID_ARGUMENT"),
    );
  });
});

describe("counterfactualValidity", () => {
  it("should measure CV over confident slices only and flip rate over all when tau is 0.8", () => {
    const r = counterfactualValidity([
      { pBefore: 0.99, pAfter: 0.05 }, // confident, valid (0.94), flipped
      { pBefore: 0.95, pAfter: 0.3 }, // confident, not valid (0.65), flipped
      { pBefore: 0.8, pAfter: 0.0 }, // not confident (0.8 is not > 0.8), flipped
      { pBefore: 0.9, pAfter: 0.6 }, // confident, not valid, not flipped
      { pBefore: 0.6, pAfter: 0.5 }, // not confident, not flipped (0.5 is not < 0.5)
    ]);
    assert.equal(r.slices, 5);
    assert.equal(r.confidentSlices, 3);
    assert.equal(r.cv, 1 / 3);
    assert.equal(r.flipRate, 3 / 5);
  });

  it("should report cv null when no slice is confidently abnormal", () => {
    const r = counterfactualValidity([{ pBefore: 0.7, pAfter: 0.1 }]);
    assert.equal(r.cv, null);
    assert.equal(r.flipRate, 1);
  });

  it("should throw INVALID_ARGUMENT when a probability is outside [0, 1]", () => {
    assert.throws(
      () => counterfactualValidity([{ pBefore: 1.2, pAfter: 0.1 }]),
      (e) => isImagingError(e, "INVALID_ARGUMENT"),
    );
    assert.throws(
      () => counterfactualValidity([{ pBefore: Number.NaN, pAfter: 0.1 }]),
      (e) => isImagingError(e, "INVALID_ARGUMENT"),
    );
  });
});

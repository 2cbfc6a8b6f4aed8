"""Metric functions on hand-computed cases."""

import math

import numpy as np

from coinseg_train.metrics import (
    classification_scores,
    cleanup_mask,
    counterfactual_validity,
    diff_mask,
    flip_rate,
    hysteresis_mask,
    largest_component,
    native_diff_mask,
    recall_by_tissue,
    refine_mask,
    roc_auc,
    segmentation_scores,
    selection_score,
)


def test_should_pool_tp_fp_fn_over_slices_before_dividing():
    gt = np.zeros((2, 4, 4), bool)
    pred = np.zeros((2, 4, 4), bool)
    gt[0, :2, :2] = True  # 4 px
    pred[0, :2, :1] = True  # TP 2, FN 2
    gt[1, 0, 0] = True  # 1 px
    pred[1, 0, :3] = True  # TP 1, FP 2
    s = segmentation_scores(pred, gt)
    assert (s["tp"], s["fp"], s["fn"]) == (3, 2, 2)
    assert abs(s["pooledIoU"] - 3 / 7) < 1e-12
    assert abs(s["pooledDice"] - 6 / 10) < 1e-12
    assert abs(s["pooledPrecision"] - 3 / 5) < 1e-12 and abs(s["pooledRecall"] - 3 / 5) < 1e-12
    assert abs(s["meanIoU"] - (0.5 + 1 / 3) / 2) < 1e-12
    assert abs(s["sdIoU"] - np.std([0.5, 1 / 3])) < 1e-12


def test_should_report_nan_precision_when_nothing_is_predicted():
    gt = np.zeros((1, 4, 4), bool)
    gt[0, 0, 0] = True
    s = segmentation_scores(np.zeros_like(gt), gt)
    assert math.isnan(s["pooledPrecision"]) and s["pooledRecall"] == 0.0


def test_should_threshold_half_the_absolute_difference_strictly():
    x = np.array([1.0, 1.0, 1.0])
    x_cf = np.array([0.5, 0.4, 1.0])  # diffs 0.25, 0.3, 0
    assert diff_mask(x, x_cf, 0.25).tolist() == [False, True, False]


def test_should_keep_only_the_largest_component_after_opening_and_closing():
    m = np.zeros((12, 12), bool)
    m[1:5, 1:5] = True  # 16 px
    m[7:12, 6:12] = True  # 30 px, the largest
    m[0, 11] = True  # speck removed by the opening
    out = cleanup_mask(m)
    assert out[8, 8] and not out[2, 2] and not out[0, 11]
    assert out.sum() == 30


def _rows(rows: list[str]) -> np.ndarray:
    return np.array([[c == "#" for c in r] for r in rows])


def _art(m: np.ndarray) -> list[str]:
    return ["".join("#" if v else "." for v in r) for r in m]


# The cases of test/imaging/mask/hysteresis-mask.test.ts: the Python and TypeScript rules agree.
def test_should_keep_weak_regions_connected_to_a_strong_pixel_as_the_typescript_rule():
    weak = _rows(["###...##", "#.#...##", "###.....", "......#."])
    strong = _rows(["........", "..#.....", "........", "......#."])
    assert _art(hysteresis_mask(weak, strong)) == ["###.....", "#.#.....", "###.....", "......#."]
    diag = _rows(["#...", ".#..", "..#.", "...#"])
    assert _art(hysteresis_mask(diag, _rows(["#...", "....", "....", "...."]))) == _art(diag)
    assert _art(hysteresis_mask(_rows(["....", ".##."]), _rows(["#...", "...."]))) == ["#...", ".##."]
    assert not hysteresis_mask(_rows(["###"]), _rows(["..."])).any()


def test_should_refine_into_the_halo_and_keep_the_largest_region_as_the_typescript_rule():
    weak = _rows(["###..#....", "###..#..##", "###..#...."])
    strong = _rows(["..........", ".#...#....", ".........."])
    assert _art(refine_mask(strong, weak)) == ["###.......", "###.......", "###......."]
    thin_weak = _rows(["......", ".####.", ".####.", "......"])
    thin_strong = _rows(["......", "..#...", "......", "......"])
    assert _art(refine_mask(thin_strong, thin_weak)) == _art(thin_weak)
    assert not cleanup_mask(thin_weak).any()  # the paper's clean-up opens it away
    # Per slice on a stack; ties go to the component met first in raster order.
    stack = np.stack([_rows(["##..", "....", "..##"]), _rows(["#...", "....", ".###"])])
    assert [_art(m) for m in largest_component(stack)] == [["##..", "....", "...."], ["....", "....", ".###"]]


def test_should_count_cv_over_confident_slices_only():
    p = np.array([0.9, 0.95, 0.5, 0.99])
    p_cf = np.array([0.05, 0.5, 0.0, 0.1])
    r = counterfactual_validity(p, p_cf, 0.8)
    assert r["cvSlices"] == 3  # 0.5 is excluded
    assert abs(r["cv"] - 2 / 3) < 1e-12  # 0.95 -> 0.5 changes by 0.45 only


def test_should_report_nan_cv_when_no_slice_is_confident():
    assert math.isnan(counterfactual_validity(np.array([0.1]), np.array([0.0]))["cv"])


def test_should_count_flips_among_abnormal_predictions():
    r = flip_rate(np.array([0.9, 0.7, 0.2]), np.array([0.1, 0.6, 0.9]))
    assert r == {"flipRate": 0.5, "flipSlices": 2}


def test_should_compute_auc_with_ties_as_half():
    assert roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert roc_auc(np.array([0, 1]), np.array([0.5, 0.5])) == 0.5
    assert math.isnan(roc_auc(np.array([1, 1]), np.array([0.2, 0.3])))


def test_should_compute_accuracy_and_f1_with_abnormal_as_positive():
    s = classification_scores(np.array([1, 1, 0, 0]), np.array([0.9, 0.2, 0.7, 0.1]))
    assert s["accuracy"] == 0.5 and s["precision"] == 0.5 and s["recall"] == 0.5 and s["f1"] == 0.5


def test_should_split_recall_by_the_clean_intensity_under_the_ground_truth():
    gt = np.zeros((1, 2, 4), bool)
    gt[0, 0, :] = True  # 4 GT px
    gt[0, 1, 0] = True  # 5th GT px
    # clean on [0, 1]: 0 (clipped fat), 0.1, 0.5, 1.0 (the last bin includes 1), 0.5
    c01 = np.array([[[0.0, 0.1, 0.5, 1.0], [0.5, 0.5, 0.5, 0.5]]])
    x_clean = c01 * 2 - 1
    pred = np.zeros_like(gt)
    pred[0, 0, 2] = True  # one of the two GT px on 0.3-0.75
    pred[0, 1, 1] = True  # outside the GT: counts nowhere
    oracle = gt.copy()
    oracle[0, 0, 3] = False
    rows = recall_by_tissue(pred, oracle, gt, x_clean)
    assert [r["gtPixels"] for r in rows] == [1, 1, 2, 1]
    assert [r["gtShare"] for r in rows] == [0.2, 0.2, 0.4, 0.2]
    assert [r["recall"] for r in rows] == [0.0, 0.0, 0.5, 0.0]
    assert [r["oracleRecall"] for r in rows] == [1.0, 1.0, 1.0, 0.0]
    empty = recall_by_tissue(pred, oracle, np.zeros_like(gt), x_clean)
    assert all(math.isnan(r["recall"]) and r["gtPixels"] == 0 for r in empty)


def test_should_threshold_the_bilinearly_upsampled_difference_map_for_the_native_mask():
    x = np.full((1, 1, 2, 2), -1.0, np.float32)
    x_cf = x.copy()
    x[0, 0, 0, 0] = 0.2  # diff (0.2 + 1) / 2 = 0.6 at model pixel (0, 0), 0 elsewhere
    m = native_diff_mask(x, x_cf, (4, 4), 0.25)
    # Half-pixel centres: native pixel (r, c) samples model coordinate ((r + 0.5) / 2 - 0.5), clamped,
    # so rows/cols 0-1 weigh pixel 0 by 1, 1; row/col 2 by 0.25; 3 by 0. 0.6 · 0.25 < 0.25 < 0.6.
    want = np.zeros((4, 4), bool)
    want[:2, :2] = True
    assert m.shape == (1, 4, 4) and (m[0] == want).all()
    assert (native_diff_mask(x, x_cf, (2, 2), 0.25)[0] == diff_mask(x, x_cf, 0.25)[0, 0]).all()  # same grid: the paper's rule


def test_should_select_by_the_refined_mask_when_asked_and_by_the_paper_rule_by_default():
    # A 3x3 target; the counterfactual changes its centre by 0.3 (> 0.25) and the rest by 0.15.
    x = np.zeros((1, 1, 7, 7), np.float32)
    gt = np.zeros((1, 1, 7, 7), bool)
    gt[0, 0, 2:5, 2:5] = True
    x_cf = x.copy()
    x_cf[0, 0, 2:5, 2:5] = -0.3
    x_cf[0, 0, 3, 3] = -0.6
    assert abs(selection_score(x, x_cf, gt, 0.25, "paper") - 1 / 9) < 1e-12
    assert selection_score(x, x_cf, gt, 0.25, "refined") == 1.0  # grown at t_low <= 0.14
    import pytest

    with pytest.raises(ValueError):
        selection_score(x, x_cf, gt, 0.25, "other")

"""Smoke: train each model a few steps on the tiny fixture through the CLI, export it, and check
ONNX Runtime against PyTorch, the model card and the golden tensors."""

import hashlib
import math
import os
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from coinseg_train.cli import main
from coinseg_train.runtime import load_checkpoint
from coinseg_train.train_classifier import load_classifier
from conftest import TINY_PRESET


def _cli(*args: str) -> int:
    return main([*args, "--preset", TINY_PRESET, "--threads", "1"])


@pytest.fixture(scope="module")
def exported(fixture_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("pipeline")
    runs, models = base / "runs", base / "models"
    common = ["--benchmark", "kidney-blob", "--data", str(fixture_root), "--runs", str(runs)]
    for cmd in ("train-classifier", "train-coin", "train-singla"):
        assert _cli(cmd, *common) == 0
    for model in ("classifier", "coin", "singla"):
        assert _cli("export", "--model", model, *common, "--out", str(models)) == 0
    return {"runs": runs, "models": models, "data": fixture_root}


def _strict_json(path: Path) -> dict:
    def reject(token: str) -> None:
        raise ValueError(f"non-standard JSON constant {token}")

    return json.loads(path.read_text(), parse_constant=reject)


@pytest.mark.parametrize("model", ["classifier", "coin", "singla"])
def test_should_write_a_model_card_matching_the_onnx_file_when_exporting(exported, model):
    d = exported["models"] / f"kidney-blob-{model}"
    spec = _strict_json(d / "model.json")
    blob = (d / "model.onnx").read_bytes()
    assert spec["key"] == f"kidney-blob-{model}"
    assert spec["sha256"] == hashlib.sha256(blob).hexdigest() and spec["bytes"] == len(blob)
    assert spec["preprocess"] == {"windowHU": [-160.0, 340.0], "size": [32, 32], "resize": "bilinear-half-pixel"}
    assert spec["inputs"][0] == {"name": "x", "shape": [-1, 1, 32, 32], "dtype": "float32"}
    assert spec["training"]["preset"] == "tiny" and spec["training"]["steps"] > 0
    assert spec["training"]["command"] == f"npm run train -- kidney-blob {model}"
    assert spec["thresholds"]["mask"] == 0.25
    assert "ensemble" not in spec["training"]  # one network, built from training.config as it stands
    import onnx

    proto = onnx.load(str(d / "model.onnx"))
    assert [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] == [17]
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in proto.graph.initializer)
    if model == "classifier":
        assert spec["kind"] == "CLASSIFIER" and spec["targetLayer"]["name"] == "layer4"
        assert {"accuracy", "f1", "rocAuc"} <= spec["metrics"].keys()
    else:
        assert spec["classifierKey"] == "kidney-blob-classifier"
        assert {"pooledIoU", "pooledDice", "cv", "flipRate", "oraclePooledIoU", "sweep"} <= spec["metrics"].keys()
        assert spec["metrics"]["oraclePooledIoU"] > 0.5  # the fixture's blobs clear the 0.25 threshold


@pytest.mark.parametrize("model", ["classifier", "coin", "singla"])
def test_should_reproduce_golden_outputs_with_onnx_runtime_at_any_batch(exported, model):
    d = exported["models"] / f"kidney-blob-{model}"
    spec = _strict_json(d / "model.json")
    golden = spec["golden"]
    read = lambda e: np.fromfile(d / e["file"], dtype="<f4").reshape(e["shape"])  # noqa: E731
    inputs = {k: read(v) for k, v in golden["inputs"].items()}
    assert inputs["x"].shape == (4, 1, 32, 32)
    sess = ort.InferenceSession(str(d / "model.onnx"), providers=["CPUExecutionProvider"])
    names = [o["name"] for o in spec["outputs"]]
    outs = dict(zip(names, sess.run(names, inputs)))
    for name in names:
        assert np.abs(outs[name] - read(golden["outputs"][name])).max() <= 1e-4
        assert np.abs(read(golden["torchOutputs"][name]) - read(golden["outputs"][name])).max() <= 1e-4
    one = sess.run(names, {k: v[1:2] for k, v in inputs.items()})
    assert np.abs(one[0] - outs[names[0]][1:2]).max() <= 1e-4  # dynamic batch, eval-mode batch norm


def test_should_export_activations_grad_equal_to_autograd(exported):
    d = exported["models"] / "kidney-blob-classifier"
    clf, _ = load_classifier(exported["runs"] / "kidney-blob" / "classifier" / "best.pt")
    x = np.fromfile(d / "golden" / "x.bin", dtype="<f4").reshape(4, 1, 32, 32)
    sess = ort.InferenceSession(str(d / "model.onnx"), providers=["CPUExecutionProvider"])
    _, acts, grad = sess.run(["logit", "activations", "activations_grad"], {"x": x})
    a = torch.from_numpy(acts).requires_grad_(True)
    (ref,) = torch.autograd.grad(clf.head(a).sum(), a)
    assert np.abs(grad - ref.numpy()).max() <= 1e-6


def test_should_continue_from_the_last_step_when_resuming(exported):
    common = ["--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(exported["runs"])]
    before = load_checkpoint(exported["runs"] / "kidney-blob" / "coin" / "last.pt", "coin")
    assert _cli("train-coin", *common, "--resume", "--steps", str(before["step"] + 2)) == 0
    after = load_checkpoint(exported["runs"] / "kidney-blob" / "coin" / "last.pt", "coin")
    assert after["step"] == before["step"] + 2
    assert after["elapsedSeconds"] > before["elapsedSeconds"]


def test_should_write_strict_json_evaluation_with_an_oracle_row(exported):
    report = _strict_json(exported["runs"] / "kidney-blob" / "coin" / "eval-test.json")
    rows = report["rows"]
    assert {"COIN", "COIN+cleanup", "ORACLE", "ORACLE+cleanup"} <= rows.keys()
    assert list(rows["ORACLE"]["sweep"].keys()) == ["0.15", "0.20", "0.25", "0.30", "0.35"]
    assert rows["ORACLE"]["pooledIoU"] > rows["COIN"]["pooledIoU"]
    native = rows["ORACLE"]["native"]  # the service's mask, on the fixture's native grid
    assert native["slices"] == rows["ORACLE"]["slices"] and native["tp"] > 0
    assert native["pooledIoU"] > 0.5


@pytest.mark.parametrize("model", ["coin", "singla"])
def test_should_evaluate_an_exported_generator_as_its_checkpoint(exported, model):
    common = ["--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(exported["runs"]),
              "--model", model, "--split", "val"]
    assert _cli("evaluate", *common) == 0
    assert _cli("evaluate", *common, "--onnx", str(exported["models"] / f"kidney-blob-{model}" / "model.onnx")) == 0
    run = exported["runs"] / "kidney-blob" / model
    torch_rows, onnx_rows = (_strict_json(run / name)["rows"] for name in ("eval-val.json", "eval-val-onnx.json"))
    for name in (model.upper(), "ORACLE"):
        for key in ("tp", "fp", "fn"):  # ONNX Runtime within 1e-4 of PyTorch: the same masks, bar a pixel at the edge
            assert abs(torch_rows[name][key] - onnx_rows[name][key]) <= 2
            assert abs(torch_rows[name]["native"][key] - onnx_rows[name]["native"][key]) <= 4


def test_should_score_the_refined_mask_when_given_a_lower_threshold(exported, capsys):
    common = ["--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(exported["runs"]),
              "--model", "coin", "--split", "val"]
    rows_at = {}
    for low in ("0.25", "0.1"):
        assert _cli("evaluate", *common, "--refine-low", low) == 0
        rows_at[low] = _strict_json(exported["runs"] / "kidney-blob" / "coin" / "eval-val.json")["rows"]
    paper, same, grown = rows_at["0.25"]["COIN"], rows_at["0.25"]["COIN+refined"], rows_at["0.1"]["COIN+refined"]
    assert same["hysteresis"] == 0.25 and grown["hysteresis"] == 0.1
    # t_low = 0.25 grows nothing: only the largest region of the paper's mask is left, a subset of it.
    assert same["tp"] <= paper["tp"] and same["fp"] <= paper["fp"] and same["tp"] + same["fn"] == paper["tp"] + paper["fn"]
    # A lower t_low only adds pixels connected to a seed: at least as large as the largest region alone.
    assert grown["tp"] + grown["fp"] >= same["tp"] + same["fp"]
    assert "native" in grown and "ORACLE+refined" not in rows_at["0.1"] and "cv" in grown
    # The exported fixture's model.json has no calibrated threshold: no refined row by default.
    assert _cli("evaluate", *common, "--onnx", str(exported["models"] / "kidney-blob-coin" / "model.onnx")) == 0
    assert "COIN+refined" not in _strict_json(exported["runs"] / "kidney-blob" / "coin" / "eval-val-onnx.json")["rows"]
    assert _cli("evaluate", *common, "--refine-low", "0.3") == 2
    assert "error USAGE" in capsys.readouterr().err


def test_should_exit_2_when_asked_to_evaluate_a_classifier_through_onnx(exported, capsys):
    args = ["evaluate", "--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(exported["runs"]),
            "--model", "classifier", "--onnx", str(exported["models"] / "kidney-blob-coin" / "model.onnx")]
    assert _cli(*args) == 2
    assert "error USAGE" in capsys.readouterr().err


def test_should_exit_2_with_a_code_when_the_data_is_missing(tmp_path: Path, capsys):
    assert _cli("train-classifier", "--benchmark", "kidney-blob", "--data", str(tmp_path / "none"), "--runs", str(tmp_path)) == 2
    assert "error DATA_NOT_FOUND" in capsys.readouterr().err


def test_should_exit_2_when_a_generator_has_no_classifier(fixture_root: Path, tmp_path: Path, capsys):
    assert _cli("train-coin", "--benchmark", "kidney-blob", "--data", str(fixture_root), "--runs", str(tmp_path)) == 2
    assert "error CHECKPOINT_NOT_FOUND" in capsys.readouterr().err


def test_should_restore_the_exported_classifier_as_a_checkpoint_with_the_same_outputs(exported, tmp_path: Path):
    runs = tmp_path / "runs"
    assert main(["restore-classifier", "--benchmark", "kidney-blob", "--preset", TINY_PRESET, "--threads", "1",
                 "--runs", str(runs), "--models", str(exported["models"])]) == 0
    restored, ck = load_classifier(runs / "kidney-blob" / "classifier" / "best.pt")
    trained, _ = load_classifier(exported["runs"] / "kidney-blob" / "classifier" / "best.pt")
    x = torch.from_numpy(np.fromfile(exported["models"] / "kidney-blob-classifier" / "golden" / "x.bin",
                                     dtype="<f4").reshape(4, 1, 32, 32))
    with torch.no_grad():
        assert torch.abs(restored(x) - trained(x)).max().item() <= 1e-5
        assert torch.abs(restored.activations(x) - trained.activations(x)).max().item() <= 1e-5
    assert ck["size"] == 32 and ck["restoredFrom"]["model"] == "kidney-blob-classifier"


def test_should_refuse_to_restore_a_classifier_whose_onnx_does_not_match_its_card(exported, tmp_path: Path, capsys):
    import shutil

    models = tmp_path / "models"
    shutil.copytree(exported["models"] / "kidney-blob-classifier", models / "kidney-blob-classifier")
    golden = models / "kidney-blob-classifier" / "golden" / "logit.torch.bin"
    golden.write_bytes((np.fromfile(golden, dtype="<f4") + 0.01).astype("<f4").tobytes())
    args = ["restore-classifier", "--benchmark", "kidney-blob", "--preset", TINY_PRESET, "--threads", "1",
            "--runs", str(tmp_path / "runs"), "--models", str(models)]
    assert main(args) == 2
    assert "error PARITY_FAILED" in capsys.readouterr().err
    assert not (tmp_path / "runs" / "kidney-blob" / "classifier" / "best.pt").exists()
    assert main([*args[:-1], str(tmp_path / "none")]) == 2
    assert "error CHECKPOINT_NOT_FOUND" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["coin", "singla"])
def test_should_restore_an_exported_generator_as_a_checkpoint_with_the_same_outputs(exported, model, tmp_path: Path):
    from coinseg_train.train_gan import load_generator

    runs = tmp_path / "runs"
    assert main(["restore-generator", "--benchmark", "kidney-blob", "--model", model, "--preset", TINY_PRESET,
                 "--threads", "1", "--runs", str(runs), "--models", str(exported["models"])]) == 0
    restored, ck = load_generator(runs / "kidney-blob" / model / "best.pt", model)
    trained, _ = load_generator(exported["runs"] / "kidney-blob" / model / "best.pt", model)
    x = torch.from_numpy(np.fromfile(exported["models"] / f"kidney-blob-{model}" / "golden" / "x.bin",
                                     dtype="<f4").reshape(4, 1, 32, 32))
    for c in ([None] if model == "coin" else [torch.zeros(4), torch.ones(4), torch.tensor([0.0, 1.0, 1.0, 0.0])]):
        with torch.no_grad():
            assert torch.abs(restored(x, c) - trained(x, c)).max().item() <= 1e-5
    assert ck["restoredFrom"]["model"] == f"kidney-blob-{model}"


def test_should_refuse_to_restore_a_generator_whose_onnx_does_not_match_its_card(exported, tmp_path: Path, capsys):
    import shutil

    models = tmp_path / "models"
    shutil.copytree(exported["models"] / "kidney-blob-coin", models / "kidney-blob-coin")
    golden = models / "kidney-blob-coin" / "golden" / "x_cf.torch.bin"
    golden.write_bytes((np.fromfile(golden, dtype="<f4") + 0.01).astype("<f4").tobytes())
    args = ["restore-generator", "--benchmark", "kidney-blob", "--model", "coin", "--preset", TINY_PRESET,
            "--threads", "1", "--runs", str(tmp_path / "runs"), "--models", str(models)]
    assert main(args) == 2
    assert "error PARITY_FAILED" in capsys.readouterr().err
    assert not (tmp_path / "runs" / "kidney-blob" / "coin" / "best.pt").exists()
    # Singla's graph under COIN's (intact) card: whatever it reads, it must not pass as COIN.
    shutil.copy(exported["models"] / "kidney-blob-coin" / "golden" / "x_cf.torch.bin", golden)
    shutil.copy(exported["models"] / "kidney-blob-singla" / "model.onnx", models / "kidney-blob-coin" / "model.onnx")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "error PARITY_FAILED" in err or "error CHECKPOINT_INVALID" in err
    assert not (tmp_path / "runs" / "kidney-blob" / "coin" / "best.pt").exists()


def test_should_apply_the_r1_penalty_and_the_d_input_clamp_when_configured(exported, tmp_path: Path, capfd):
    import shutil

    runs = tmp_path / "runs"
    shutil.copytree(exported["runs"] / "kidney-blob" / "classifier", runs / "kidney-blob" / "classifier")
    common = ["--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(runs), "--steps", "2"]
    assert _cli("train-coin", *common) == 0
    logged = capfd.readouterr()
    r1 = [float(t.split("=")[1]) for line in (logged.out + logged.err).splitlines() if " r1=" in line
          for t in line.split() if t.startswith("r1=")]
    assert r1 and all(v > 0 for v in r1)  # the tiny preset sets r1 = 1, r1Every = 2, dInputClamp = 0.98
    assert _cli("train-coin", *common, "--set", "coin.r1=0") == 0  # and off: no penalty logged
    logged = capfd.readouterr()
    assert " r1=" not in logged.out + logged.err


def test_should_train_and_export_a_generator_above_the_classifier_size(exported, tmp_path: Path):
    import shutil

    runs, models = tmp_path / "runs", tmp_path / "models"
    shutil.copytree(exported["runs"] / "kidney-blob" / "classifier", runs / "kidney-blob" / "classifier")
    common = ["--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(runs), "--set", "coin.size=64"]
    assert _cli("train-coin", *common, "--steps", "2") == 0
    assert load_checkpoint(runs / "kidney-blob" / "coin" / "best.pt", "coin")["size"] == 64
    assert _cli("export", "--model", "coin", *common, "--out", str(models)) == 0
    card = _strict_json(models / "kidney-blob-coin" / "model.json")
    assert card["preprocess"]["size"] == [64, 64] and card["inputs"][0]["shape"] == [-1, 1, 64, 64]
    assert card["outputs"][0]["shape"] == [-1, 1, 64, 64] and card["golden"]["inputs"]["x"]["shape"][2:] == [64, 64]
    # The classifier it was trained against stays at its own size; the exported pair is evaluated as a pair.
    clf_card = _strict_json(exported["models"] / "kidney-blob-classifier" / "model.json")
    assert clf_card["preprocess"]["size"] == [32, 32]
    onnx = models / "kidney-blob-coin" / "model.onnx"
    assert _cli("evaluate", "--model", "coin", "--benchmark", "kidney-blob", "--data", str(exported["data"]),
                "--runs", str(runs), "--split", "val", "--onnx", str(onnx)) == 0
    report = _strict_json(runs / "kidney-blob" / "coin" / "eval-val-onnx.json")
    assert report["size"] == 64 and 0.0 <= report["rows"]["COIN"]["pooledIoU"] <= 1.0


def test_should_start_a_run_from_a_trained_generator_on_another_grid_when_initialised(exported, tmp_path: Path, capfd):
    import shutil

    runs = tmp_path / "runs"
    shutil.copytree(exported["runs"] / "kidney-blob" / "classifier", runs / "kidney-blob" / "classifier")
    source = exported["runs"] / "kidney-blob" / "coin" / "last.pt"
    common = ["--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(runs)]
    init = ["--set", 'coin.init={"checkpoint":"%s"}' % source, "--set", "coin.size=64"]
    # Learning rates 0: one step leaves the weights as loaded, so the run's generator is the source's.
    assert _cli("train-coin", *common, "--steps", "1", *init, "--set", "coin.lrG=0", "--set", "coin.lrD=0") == 0
    logged = capfd.readouterr()
    assert "initialised from live G" in logged.out + logged.err and "its D" in logged.out + logged.err
    assert "warm-up" not in logged.out + logged.err
    src = load_checkpoint(source, "coin")["state"]
    run = load_checkpoint(runs / "kidney-blob" / "coin" / "last.pt", "coin")
    assert run["size"] == 64
    weights = [k for k in src["G"] if "running_" not in k and "num_batches" not in k]  # BN statistics move in train mode
    assert weights and all(torch.equal(run["state"]["G"][k], src["G"][k]) for k in weights)
    # A generator of another shape, a missing file and a malformed option are refused with a code.
    shutil.rmtree(runs / "kidney-blob" / "coin")
    assert _cli("train-coin", *common, "--steps", "1", *init, "--set", "coin.generator.widths=[4,8,8,8,8]") == 2
    assert "error CHECKPOINT_INVALID" in capfd.readouterr().err
    assert _cli("train-coin", *common, "--steps", "1", "--set", 'coin.init={"checkpoint":"%s"}' % (tmp_path / "none.pt")) == 2
    assert "error CHECKPOINT_NOT_FOUND" in capfd.readouterr().err
    assert _cli("train-coin", *common, "--steps", "1", "--set", "coin.init=3") == 2
    assert "error CONFIG_INVALID" in capfd.readouterr().err
    assert not (runs / "kidney-blob" / "coin" / "last.pt").exists()


def test_should_train_only_the_enhancer_of_a_coarse_to_fine_generator_and_export_it(exported, tmp_path: Path, capfd):
    import shutil

    import torch.nn.functional as F

    from coinseg_train.train_gan import load_generator

    runs, models = tmp_path / "runs", tmp_path / "models"
    shutil.copytree(exported["runs"] / "kidney-blob" / "classifier", runs / "kidney-blob" / "classifier")
    source = exported["runs"] / "kidney-blob" / "coin" / "best.pt"  # the tiny preset's COIN at 32
    common = ["--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(runs)]
    coarse = ["--set", "coin.size=64", "--set", 'coin.generator.coarse={"checkpoint":"%s","enhancerWidths":[4,4]}' % source]
    # lrG 0: the enhancer's zero-initialised output conv stays zero, so the model is exactly the
    # coarse generator's change, upsampled bilinearly onto the 64 grid, added to the slice.
    assert _cli("train-coin", *common, "--steps", "1", *coarse, "--set", "coin.lrG=0") == 0
    assert "coarse-to-fine from" in capfd.readouterr().out
    g, ck = load_generator(runs / "kidney-blob" / "coin" / "best.pt", "coin")
    src, _ = load_generator(source, "coin")
    assert ck["size"] == 64 and ck["config"]["coin"]["generator"]["coarse"]["factor"] == 2
    x = torch.rand(3, 1, 64, 64) * 2 - 1
    with torch.no_grad():
        xc = F.avg_pool2d(x, 2)
        want = (x + F.interpolate(src(xc) - xc, scale_factor=2.0, mode="bilinear", align_corners=False)).clamp(-1, 1)
        assert torch.allclose(g(x), want, atol=1e-6)
    # Trained (lrG > 0): the enhancer moves, the coarse members do not, and the run resumes.
    shutil.rmtree(runs / "kidney-blob" / "coin")
    assert _cli("train-coin", *common, "--steps", "2", *coarse, "--set", "coin.lrG=0.01") == 0
    assert _cli("train-coin", *common, "--steps", "3", *coarse, "--resume", "--set", "coin.lrG=0.01") == 0
    last = load_checkpoint(runs / "kidney-blob" / "coin" / "last.pt", "coin")
    assert last["step"] == 3
    live = last["state"]["G"]
    src_state = load_checkpoint(source, "coin")["state"]["generator"]
    assert all(torch.equal(live[f"coarse.0.{k}"], v) for k, v in src_state.items())
    assert live["enh_out.weight"].abs().sum() > 0
    # Anchored, with discriminator-only steps first: the generator is left as it was during those steps.
    anchored = ["--set", "coin.size=64", "--set", 'coin.generator.coarse={"checkpoint":"%s","enhancerWidths":[4,4],'
                '"anchor":true,"dWarmupSteps":2}' % source, "--set", "coin.lrG=0.01", "--set", "coin.logEverySteps=1"]
    warm_runs = ["--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(tmp_path / "warm")]
    shutil.copytree(exported["runs"] / "kidney-blob" / "classifier", tmp_path / "warm" / "kidney-blob" / "classifier")
    capfd.readouterr()
    assert _cli("train-coin", *warm_runs, "--steps", "2", *anchored) == 0
    assert "discriminator warm-up" in capfd.readouterr().out
    assert load_checkpoint(tmp_path / "warm" / "kidney-blob" / "coin" / "last.pt", "coin")["state"]["G"]["enh_out.weight"].abs().sum() == 0
    assert _cli("train-coin", *warm_runs, "--steps", "4", "--resume", *anchored) == 0
    assert " adv=" in capfd.readouterr().out
    assert load_checkpoint(tmp_path / "warm" / "kidney-blob" / "coin" / "last.pt", "coin")["state"]["G"]["enh_out.weight"].abs().sum() > 0
    # Exported as one graph: ONNX Runtime reproduces PyTorch on the golden slice at 64.
    assert _cli("export", "--model", "coin", *common, *coarse, "--out", str(models)) == 0
    card = _strict_json(models / "kidney-blob-coin" / "model.json")
    assert card["preprocess"]["size"] == [64, 64] and card["golden"]["maxAbsDiff"] <= 1e-4
    # ...and restored from the graph (coarse members and enhancer) it gives the trained model back.
    assert _cli("restore-generator", "--benchmark", "kidney-blob", "--model", "coin", "--runs", str(tmp_path / "restored"),
                "--models", str(models)) == 0
    restored, _ = load_generator(tmp_path / "restored" / "kidney-blob" / "coin" / "best.pt", "coin")
    trained, _ = load_generator(runs / "kidney-blob" / "coin" / "best.pt", "coin")
    with torch.no_grad():
        assert torch.allclose(restored(x), trained(x), atol=1e-5)
    # Refused with a code, nothing written: no finer grid, with init, a missing file, a malformed option.
    shutil.rmtree(runs / "kidney-blob" / "coin")
    bad = 'coin.generator.coarse={"checkpoint":"%s","enhancerWidths":[4]}'
    assert _cli("train-coin", *common, "--steps", "1", "--set", bad % source) == 2
    assert "error CONFIG_INVALID" in capfd.readouterr().err
    assert _cli("train-coin", *common, "--steps", "1", *coarse, "--set", 'coin.init={"checkpoint":"%s"}' % source) == 2
    assert "error CONFIG_INVALID" in capfd.readouterr().err
    assert _cli("train-coin", *common, "--steps", "1", "--set", "coin.size=64", "--set", bad % (tmp_path / "none.pt")) == 2
    assert "error CHECKPOINT_NOT_FOUND" in capfd.readouterr().err
    assert _cli("train-coin", *common, "--steps", "1", "--set", "coin.size=64", "--set", "coin.generator.coarse=[]") == 2
    assert "error CONFIG_INVALID" in capfd.readouterr().err
    assert _cli("train-coin", *common, "--steps", "1", "--set", "coin.size=64", "--set",
                'coin.generator.coarse={"checkpoint":"%s","enhancerWidths":[4],"dWarmupSteps":-1}' % source) == 2
    assert "error CONFIG_INVALID" in capfd.readouterr().err
    assert not (runs / "kidney-blob" / "coin" / "last.pt").exists()
    # Singla ignores the option it inherits from COIN's section.
    assert _cli("train-singla", *common, "--steps", "1", *coarse) == 0


def test_should_train_a_local_discriminator_and_resume_it_when_configured(exported, tmp_path: Path, capfd):
    import shutil

    runs = tmp_path / "runs"
    shutil.copytree(exported["runs"] / "kidney-blob" / "classifier", runs / "kidney-blob" / "classifier")
    local = ["--set", 'coin.localDiscriminator={"widths":[4,4,8,8,8],"crop":16,"weight":1}']
    common = ["--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(runs)]
    assert _cli("train-coin", *common, "--steps", "2", *local) == 0
    logged = capfd.readouterr()
    assert " dLocal=" in logged.out + logged.err and " advLocal=" in logged.out + logged.err
    ck = load_checkpoint(runs / "kidney-blob" / "coin" / "last.pt", "coin")
    assert "Dlocal" in ck["state"] and ck["step"] == 2
    assert _cli("train-coin", *common, "--steps", "3", "--resume", *local) == 0
    assert load_checkpoint(runs / "kidney-blob" / "coin" / "last.pt", "coin")["step"] == 3
    # A run started without a local D cannot resume with one; Singla ignores the option.
    assert _cli("train-singla", *common, "--steps", "1", *local) == 0  # ignored for Singla
    shutil.rmtree(runs / "kidney-blob" / "coin")
    assert _cli("train-coin", *common, "--steps", "1") == 0
    assert _cli("train-coin", *common, "--steps", "2", "--resume", *local) == 2
    assert "error CHECKPOINT_INVALID" in capfd.readouterr().err


def test_should_keep_every_evaluated_generator_as_a_snapshot_when_configured(exported, tmp_path: Path):
    import shutil

    runs = tmp_path / "runs"
    shutil.copytree(exported["runs"] / "kidney-blob" / "classifier", runs / "kidney-blob" / "classifier")
    common = ["--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(runs), "--steps", "4"]
    assert _cli("train-coin", *common) == 0
    assert not (runs / "kidney-blob" / "coin" / "snapshots").exists()  # off by default
    shutil.rmtree(runs / "kidney-blob" / "coin")
    assert _cli("train-coin", *common, "--set", "coin.snapshots=true") == 0
    snaps = sorted((runs / "kidney-blob" / "coin" / "snapshots").glob("step-*.pt"))
    # evalEverySteps = 2 in the tiny preset: steps 2 and 4, and the final evaluation at step 4 again.
    assert [p.name for p in snaps] == ["step-000002.pt", "step-000004.pt"]
    ck = load_checkpoint(snaps[-1], "coin")
    assert ck["step"] == 4 and set(ck["state"]) == {"generator"} and "pooledIoU" in ck["val"]


def test_should_export_a_val_chosen_snapshot_ensemble_as_one_onnx_generator(exported, tmp_path: Path, capsys):
    import shutil

    runs, models = tmp_path / "runs", tmp_path / "models"
    shutil.copytree(exported["runs"] / "kidney-blob" / "classifier", runs / "kidney-blob" / "classifier")
    common = ["--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(runs)]
    assert _cli("train-coin", *common, "--steps", "4", "--set", "coin.snapshots=true") == 0
    single = load_checkpoint(runs / "kidney-blob" / "coin" / "best.pt", "coin")
    assert _cli("ensemble", "--model", "coin", *common, "--top", "3") == 2  # only 2 snapshots
    assert "error USAGE" in capsys.readouterr().err
    kept = load_checkpoint(runs / "kidney-blob" / "coin" / "best.pt", "coin")["state"]
    assert set(kept) == {"generator"} and all(torch.equal(kept["generator"][k], v) for k, v in single["state"]["generator"].items())
    assert _cli("ensemble", "--model", "coin", *common, "--max-top", "0") == 2
    assert "error USAGE" in capsys.readouterr().err
    assert _cli("ensemble", "--model", "coin", *common, "--max-top", "1", "--flip", "off") == 0
    capped = load_checkpoint(runs / "kidney-blob" / "coin" / "best.pt", "coin")
    assert len(capped["state"]["generators"]) == 1 and [c["top"] for c in capped["ensemble"]["candidates"]] == [1]
    assert _cli("ensemble", "--model", "coin", *common, "--top", "2", "--flip", "on") == 0
    ck = load_checkpoint(runs / "kidney-blob" / "coin" / "best.pt", "coin")
    assert len(ck["state"]["generators"]) == 2 and ck["ensemble"]["flip"] is True
    assert sorted(ck["ensemble"]["steps"]) == [2, 4]
    assert (runs / "kidney-blob" / "coin" / "best-single.pt").is_file()
    assert _cli("export", "--model", "coin", *common, "--out", str(models)) == 0
    card = _strict_json(models / "kidney-blob-coin" / "model.json")
    assert card["golden"]["maxAbsDiff"] <= 1e-4
    # Where it trained comes from the training run's checkpoint.
    trained_on = load_checkpoint(runs / "kidney-blob" / "coin" / "last.pt", "coin")["machine"]
    assert card["training"]["machine"] == trained_on and "CPU" in trained_on
    # ONNX Runtime on the exported ensemble = the mean of the members and their mirrored runs.
    from coinseg_train.nets.generator import Generator

    x = np.fromfile(models / "kidney-blob-coin" / "golden" / "x.bin", dtype="<f4").reshape(card["golden"]["inputs"]["x"]["shape"])
    sess = ort.InferenceSession(str(models / "kidney-blob-coin" / "model.onnx"), providers=["CPUExecutionProvider"])
    (got,) = sess.run(["x_cf"], {"x": x})
    outs = []
    with torch.no_grad():
        for state in ck["state"]["generators"]:
            g = Generator.from_config(ck["config"]["coin"], singla=False)
            g.load_state_dict(state)
            g.eval()
            t = torch.from_numpy(x)
            outs += [g(t), torch.flip(g(torch.flip(t, dims=[3])), dims=[3])]
    assert np.abs(got - torch.stack(outs).mean(0).numpy()).max() <= 1e-4
    assert card["parameters"] == 2 * sum(p.numel() for p in g.parameters())
    assert card["training"]["ensemble"] == {"members": 2, "flip": True, "steps": ck["ensemble"]["steps"]}
    # ...and restoring it from the graph gives back both members and the mirror.
    from coinseg_train.train_gan import load_generator

    assert _cli("restore-generator", "--benchmark", "kidney-blob", "--model", "coin", "--runs", str(tmp_path / "restored"),
                "--models", str(models)) == 0
    restored, rck = load_generator(tmp_path / "restored" / "kidney-blob" / "coin" / "best.pt", "coin")
    assert len(rck["state"]["generators"]) == 2 and rck["ensemble"]["flip"] is True
    with torch.no_grad():
        assert np.abs(restored(torch.from_numpy(x)).numpy() - torch.stack(outs).mean(0).numpy()).max() <= 1e-5


def test_should_probe_the_classifier_on_slices_and_counterfactuals(exported):
    from coinseg_train.config import load_config
    from coinseg_train.data import load_benchmark, load_split
    from coinseg_train.probe import probe_classifier

    cfg = load_config(TINY_PRESET, [])
    bench = load_benchmark(exported["data"])
    onnx = exported["models"] / "kidney-blob-coin" / "model.onnx"
    got = probe_classifier(bench, cfg, exported["runs"], "val", onnx)
    val = load_split(bench, "val", cfg["size"])
    assert got["slices"] == int(val.gt.reshape(len(val), -1).any(1).sum()) > 0
    for key in ("overFatShareOfGt", "abnormalRate", "overFatOnlyRate", "normalFalseRate"):
        assert 0.0 <= got[key] <= 1.0
    cf = got["counterfactual"]
    assert 0.0 <= cf["abnormalRate"] <= 1.0 and np.isfinite(cf["medianLogit"])
    if got["overFatShareOfGt"] == 0.0:  # nothing over fat: restoring it changes nothing
        assert cf["overFatRestoredMedianLogit"] == pytest.approx(cf["medianLogit"])


def test_should_exit_2_when_the_probed_counterfactual_model_is_missing(exported, tmp_path: Path, capsys):
    args = ["probe-classifier", "--benchmark", "kidney-blob", "--data", str(exported["data"]),
            "--runs", str(exported["runs"]), "--counterfactual", str(tmp_path / "none.onnx")]
    assert _cli(*args) == 2
    assert "error MODEL_NOT_FOUND" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["coin", "singla"])
def test_should_calibrate_the_refinement_on_val_and_record_it_in_the_model_card(exported, model, tmp_path: Path):
    import shutil

    models = tmp_path / "models"
    for key in ("kidney-blob-classifier", f"kidney-blob-{model}"):
        shutil.copytree(exported["models"] / key, models / key)
    before = json.loads((models / f"kidney-blob-{model}" / "model.json").read_text())
    args = ["calibrate-refinement", "--benchmark", "kidney-blob", "--model", model, "--data", str(exported["data"]),
            "--threads", "1", "--models", str(models)]
    assert main(args) == 0
    card = _strict_json(models / f"kidney-blob-{model}" / "model.json")
    ref = card["refinement"]
    assert ref["split"] == "val" and ref["slices"] > 0
    assert card["thresholds"]["hysteresis"] == ref["chosen"]
    assert [s["hysteresis"] for s in ref["sweep"]] == [round(0.05 + 0.01 * i, 2) for i in range(21)]
    best = max(s["pooledIoU"] for s in ref["sweep"])
    assert ref["refined"]["pooledIoU"] == best
    # t_low = t grows nothing: the largest region of the paper's mask.
    assert ref["sweep"][-1]["pooledIoU"] == ref["largestComponentOnly"]["pooledIoU"]
    assert {k: v for k, v in card.items() if k not in ("refinement", "thresholds")} == \
        {k: v for k, v in before.items() if k not in ("refinement", "thresholds")}


def test_should_refuse_to_calibrate_on_the_test_split_or_a_tampered_graph(exported, tmp_path: Path, capsys):
    import shutil

    models = tmp_path / "models"
    for key in ("kidney-blob-classifier", "kidney-blob-coin"):
        shutil.copytree(exported["models"] / key, models / key)
    common = ["--benchmark", "kidney-blob", "--model", "coin", "--data", str(exported["data"]), "--models", str(models)]
    with pytest.raises(SystemExit):  # argparse: test is not a choice
        main(["calibrate-refinement", *common, "--split", "test"])
    graph = models / "kidney-blob-coin" / "model.onnx"
    graph.write_bytes(graph.read_bytes() + b"\0")
    before = (models / "kidney-blob-coin" / "model.json").read_text()
    assert main(["calibrate-refinement", *common]) == 2
    assert "error MODEL_INVALID" in capsys.readouterr().err
    assert (models / "kidney-blob-coin" / "model.json").read_text() == before


def test_should_train_every_spec_line_on_a_packed_cache_when_sweeping(exported, tmp_path: Path):
    """scripts/gpu/sweep.sh on the CPU: the pack is unpacked where there are no volumes, each spec line
    trains in its own process and ends as <out>/<name>.tar with its selected checkpoints and log."""
    import subprocess
    import tarfile

    repo = Path(__file__).resolve().parents[2]
    pack = tmp_path / "pack.npz.xz"
    assert _cli("pack-cache", "--benchmark", "kidney-blob", "--data", str(exported["data"]), "--splits", "train,val",
                "--out", str(pack)) == 0
    spec = tmp_path / "spec"
    spec.write_text("# two runs\nA coin --steps 2\n\nB singla --steps 2 --set 'singla.lossWeights={\"adv\":1,\"kl\":1,\"rec\":1,\"tv\":0}'\n")
    out = tmp_path / "out"
    env = {**os.environ, "DEVICE": "cpu", "THREADS": "1", "MINUTES": "5", "PRESET": TINY_PRESET, "DATA": str(tmp_path / "data")}
    proc = subprocess.run(["bash", str(repo / "scripts" / "gpu" / "sweep.sh"), "kidney-blob", str(pack),
                           str(exported["runs"] / "kidney-blob" / "classifier" / "best.pt"), str(spec), str(out)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not (tmp_path / "data" / "kidney-blob" / "volumes").exists()
    for name, kind in (("A", "coin"), ("B", "singla")):
        with tarfile.open(out / f"{name}.tar") as tar:
            names = set(tar.getnames())
            log = tar.extractfile(f"{name}.log").read().decode()
        assert {f"kidney-blob/{kind}/best.pt", f"kidney-blob/{kind}/best-single.pt", f"{name}.log"} <= names
        assert "train exit 0" in log and "ensemble exit 0" in log, log[-1500:]
        assert "== " in proc.stdout and f"{name}.log" in proc.stdout
    assert not list(out.glob("*.tmp"))


def test_should_train_an_inpainter_on_normal_slices_that_changes_only_the_hole(exported, tmp_path: Path, capfd):
    from coinseg_train.train_inpainter import load_inpainter, random_holes

    common = ["--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(tmp_path)]
    assert _cli("train-inpainter", *common, "--steps", "2") == 0
    assert "[val] step=2" in capfd.readouterr().out
    assert _cli("train-inpainter", *common, "--steps", "4", "--resume") == 0
    last = load_checkpoint(tmp_path / "kidney-blob" / "inpainter" / "last.pt", "inpainter")
    assert last["step"] == 4 and last["best"]["valHoleL1"] >= 0
    # Cosine from lr to lrFinal over the budget: the 4th of 4 steps ran at progress 3/4.
    c = last["config"]["inpainter"]
    want = c["lrFinal"] + 0.5 * (c["lr"] - c["lrFinal"]) * (1 + math.cos(math.pi * 0.75))
    assert c["lrFinal"] < c["lr"] and last["state"]["opt"]["param_groups"][0]["lr"] == pytest.approx(want)
    net, ck = load_inpainter(tmp_path / "kidney-blob" / "inpainter" / "best.pt")
    x = torch.rand(3, 1, 32, 32) * 2 - 1
    cfg = ck["config"]["inpainter"]["holes"]
    holes = random_holes(x, cfg, torch.Generator().manual_seed(5))
    assert torch.equal(holes, random_holes(x, cfg, torch.Generator().manual_seed(5)))  # seeded
    assert holes.sum() > 0 and set(holes.unique().tolist()) <= {0.0, 1.0}
    with torch.no_grad():
        filled = net(x, holes)
    assert torch.equal(filled[holes == 0], x[holes == 0])  # only the hole is filled
    assert filled.abs().max() <= 1.0
    # A slice with no tissue above the threshold gets no hole; a classifier checkpoint is not an inpainter.
    assert random_holes(torch.full((1, 1, 32, 32), -1.0), cfg, torch.Generator().manual_seed(5)).sum() == 0
    from coinseg_train.errors import TrainError

    with pytest.raises(TrainError) as err:
        load_inpainter(exported["runs"] / "kidney-blob" / "classifier" / "best.pt")
    assert err.value.code == "CHECKPOINT_INVALID"


def test_should_start_an_inpainter_from_another_ones_weights_and_keep_them_when_training_does_not_beat_them(exported, tmp_path: Path, capfd):
    import re

    common = ["--data", str(exported["data"]), "--benchmark", "kidney-blob"]
    assert _cli("train-inpainter", *common, "--runs", str(tmp_path / "a"), "--steps", "2") == 0
    first = load_checkpoint(tmp_path / "a" / "kidney-blob" / "inpainter" / "best.pt", "inpainter")
    capfd.readouterr()
    start = tmp_path / "a" / "kidney-blob" / "inpainter" / "best.pt"
    # The starting point is scored on val before the first step (the same val holes: the same score) ...
    assert _cli("train-inpainter", *common, "--runs", str(tmp_path / "b"), "--steps", "2", "--init", str(start)) == 0
    out = capfd.readouterr().out
    scores = [float(v) for v in re.findall(r"\[val\] step=\d+ t=\d+s holeL1=([0-9.]+)", out)]
    assert out.index("[val] step=0") < out.index("[val] step=2")
    assert scores[0] == pytest.approx(first["best"]["valHoleL1"], abs=1e-4)  # logged to 4 decimals
    second = load_checkpoint(tmp_path / "b" / "kidney-blob" / "inpainter" / "best.pt", "inpainter")
    assert second["initFrom"]["path"] == str(start) and second["initFrom"]["step"] == first["step"]
    assert second["best"]["valHoleL1"] == pytest.approx(min(scores), abs=1e-4)
    # ... so with no step at all the selection is the starting weights themselves.
    assert _cli("train-inpainter", *common, "--runs", str(tmp_path / "c"), "--steps", "0", "--init", str(start)) == 0
    third = load_checkpoint(tmp_path / "c" / "kidney-blob" / "inpainter" / "best.pt", "inpainter")
    assert third["best"]["step"] == 0
    for k, v in first["state"]["net"].items():
        assert torch.equal(third["state"]["net"][k], v)
    # Not with --resume; not from weights of another shape.
    assert _cli("train-inpainter", *common, "--runs", str(tmp_path / "b"), "--steps", "2", "--init", str(start), "--resume") == 2
    assert "error USAGE" in capfd.readouterr().err
    assert _cli("train-inpainter", *common, "--runs", str(tmp_path / "d"), "--steps", "2", "--init", str(start),
                "--set", "inpainter.widths=[8,8,8,8,8]") == 2
    assert "error CHECKPOINT_INVALID" in capfd.readouterr().err


def test_should_choose_the_best_hole_among_those_that_keep_the_counterfactuals_valid():
    from coinseg_train.errors import TrainError
    from coinseg_train.inpaint_refine import choose_candidate

    def cand(t, k, flip, iou, cv):
        return {"threshold": t, "dilate": k, "flip": flip, "pooledIoU": iou, "cv": cv}

    grid = [cand(0.25, 1, False, 0.50, 0.98), cand(0.15, 3, True, 0.70, 0.40), cand(0.2, 2, False, 0.55, 0.95),
            cand(0.2, 1, True, 0.55, 0.96), cand(0.1, 0, False, 0.60, float("nan"))]
    assert choose_candidate(grid, 0.95) == grid[3]  # 0.70 and the NaN CV are not valid; the tie goes to less dilation
    assert choose_candidate(grid, 0.3) == grid[1]
    assert choose_candidate(grid, 0.0) == grid[1]
    assert choose_candidate([cand(0.25, 0, False, 0.5, 0.5), cand(0.25, 0, True, 0.5, 0.5)], 0.0)["flip"] is False
    assert choose_candidate([{**cand(0.25, 0, False, 0.5, 0.5), "component": 9}, cand(0.25, 0, False, 0.5, 0.5)], 0.0).get("component", 0) == 0
    with pytest.raises(TrainError) as err:
        choose_candidate(grid, 0.99)
    assert err.value.code == "NO_VALID_CANDIDATE" and "0.980 at threshold 0.25" in err.value.message


def test_should_keep_only_the_holes_region_around_the_strongest_change_when_a_seed_box_is_given():
    from coinseg_train.nets.inpainter import InpaintedCounterfactual

    x = torch.zeros(2, 1, 24, 24)
    x_cf = torch.zeros(2, 1, 24, 24)
    x_cf[0, 0, 2:6, 2:6] = 0.6  # a weak 4 x 4 change (diff 0.3) ...
    x_cf[0, 0, 14:20, 12:22] = 0.8  # ... and a stronger, larger one (diff 0.4)
    x_cf[0, 0, 16, 3] = 1.8  # one very strong speckle (diff 0.9), strongest pixel but weak in a 5 x 5 box
    whole = InpaintedCounterfactual.hole(x, x_cf, 0.25, 1)
    kept = InpaintedCounterfactual.hole(x, x_cf, 0.25, 1, 5)
    assert torch.equal(InpaintedCounterfactual.hole(x, x_cf, 0.25, 1, 0), whole)
    strong = torch.zeros_like(whole)
    strong[0, 0, 13:21, 11:23] = 1  # the strong change grown by one pixel
    assert torch.equal(kept, strong) and kept[1].sum() == 0  # an empty hole stays empty
    # Box 1: the single strongest pixel is the seed, so the speckle's own region is kept.
    speckle = InpaintedCounterfactual.hole(x, x_cf, 0.25, 1, 1)
    assert speckle[0, 0, 15:18, 2:5].sum() == 9 and speckle.sum() == 9
    # 8-connected through the hole, however winding: a diagonal staircase of pixels is one region.
    stair = torch.zeros(1, 1, 24, 24)
    for i in range(20):
        stair[0, 0, i, i] = 0.6
    assert torch.equal(InpaintedCounterfactual.hole(torch.zeros_like(stair), stair, 0.25, 0, 3), (stair > 0).float())
    with pytest.raises(ValueError):
        InpaintedCounterfactual.seeded_component(whole, whole, 4)


def test_should_fill_the_region_the_classifier_calls_least_abnormal_when_choosing_among_the_holes_regions():
    from torch import nn

    from coinseg_train.nets.inpainter import InpaintedCounterfactual

    x = torch.zeros(2, 1, 24, 24)
    x_cf = torch.zeros(2, 1, 24, 24)
    x_cf[0, 0, 14:20, 12:22] = 0.8  # the strongest change (diff 0.4) ...
    x_cf[0, 0, 2:6, 2:6] = 0.6  # ... and a weaker one (diff 0.3), in the top-left corner
    x_cf[1, 0, 2:6, 2:6] = 0.6  # the second slice has only the weaker one
    hole, diff = InpaintedCounterfactual._grown_change(x, x_cf, 0.25, 1)
    regions = InpaintedCounterfactual.seeded_regions(hole, diff, 3, 3)
    strong, weak = torch.zeros(24, 24), torch.zeros(24, 24)
    strong[13:21, 11:23] = 1
    weak[1:7, 1:7] = 1
    assert regions.shape == (2, 3, 24, 24)
    assert torch.equal(regions[0, 0], strong) and torch.equal(regions[0, 1], weak) and regions[0, 2].sum() == 0
    assert torch.equal(regions[1, 0], weak) and regions[1, 1:].sum() == 0  # fewer regions than asked: the rest empty
    assert torch.equal(InpaintedCounterfactual.seeded_component(hole, diff, 3), regions[:, :1])
    with pytest.raises(ValueError):
        InpaintedCounterfactual.seeded_regions(hole, diff, 3, 0)

    class Same(nn.Module):  # a generator that changes nothing
        def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
            return x

    class DarkFill(nn.Module):  # fills a hole with -1 (the inpainter's interface)
        def fill(self, x: torch.Tensor, hole: torch.Tensor, flip: bool) -> torch.Tensor:
            return x * (1 - hole) - hole

    class Corner(nn.Module):  # calls a slice abnormal by its top-left corner's brightness
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x[:, :, :8, :8].mean(dim=(1, 2, 3)).unsqueeze(1)

    class Bright(nn.Module):  # calls a slice abnormal the darker it is: every fill raises the logit
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return -x.mean(dim=(1, 2, 3)).unsqueeze(1)

    def fill_of(region: torch.Tensor) -> torch.Tensor:
        return x[:1] * (1 - region) - region

    # The classifier, not the strength, picks the region: filling the corner lowers its logit most.
    judged = InpaintedCounterfactual(Same(), DarkFill(), 0.25, 1, component=3, regions=2, classifier=Corner())
    out = judged.judged_fill(x, x_cf)
    assert torch.equal(out[0], fill_of(weak)[0]) and torch.equal(out[1], fill_of(weak)[0])
    with torch.no_grad():
        assert torch.equal(judged(x), x)  # an empty hole (the generator changes nothing): the slice itself
    # An empty region (no fill) is never chosen over a filled one, even when the classifier would prefer it.
    out = InpaintedCounterfactual(Same(), DarkFill(), 0.25, 1, component=3, regions=3, classifier=Bright()).judged_fill(x, x_cf)
    assert torch.equal(out[0], fill_of(weak)[0]) and torch.equal(out[1], fill_of(weak)[0])  # weak is smaller than strong
    with pytest.raises(ValueError):
        InpaintedCounterfactual(Same(), DarkFill(), 0.25, 1, component=0, regions=2, classifier=Corner())
    with pytest.raises(ValueError):
        InpaintedCounterfactual(Same(), DarkFill(), 0.25, 1, component=3, regions=2)


def test_should_let_the_classifier_choose_the_holes_region_when_configured_and_export_and_restore_it(exported, tmp_path: Path, capfd):
    import shutil

    from coinseg_train.nets.inpainter import InpaintedCounterfactual
    from coinseg_train.train_gan import load_generator

    runs, models = tmp_path / "runs", tmp_path / "models"
    for model in ("classifier", "coin"):
        shutil.copytree(exported["runs"] / "kidney-blob" / model, runs / "kidney-blob" / model)
    shutil.copytree(exported["models"] / "kidney-blob-classifier", models / "kidney-blob-classifier")
    common = ["--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(runs)]
    assert _cli("train-inpainter", *common, "--steps", "2") == 0
    grid = ["--set", "inpainter.refine.thresholds=[0.02]", "--set", "inpainter.refine.dilations=[1]",
            "--set", "inpainter.refine.regenerate=[true]"]
    assert _cli("inpaint-refine", *common, *grid, "--set", "inpainter.refine.components=[0,3]", "--set", "inpainter.refine.regions=[1,3]") == 0
    cands = load_generator(runs / "kidney-blob" / "coin" / "best.pt", "coin")[1]["inpaint"]["candidates"]
    # The whole hole has no regions to choose among; a seed box is tried with 1 and 3.
    assert sorted((c["component"], c["regions"]) for c in cands) == [(0, 1), (0, 1), (3, 1), (3, 1), (3, 3), (3, 3)]
    assert _cli("inpaint-refine", *common, *grid, "--set", "inpainter.refine.components=[3]",
                "--set", "inpainter.refine.regions=[3]") == 0
    g, ck = load_generator(runs / "kidney-blob" / "coin" / "best.pt", "coin")
    assert isinstance(g, InpaintedCounterfactual) and g.regions == 3 and ck["inpaint"]["regions"] == 3
    assert ck["judge"]["size"] == 32 and g.classifier is not None
    x = torch.rand(3, 1, 32, 32) * 2 - 1
    clf, _ = load_classifier(runs / "kidney-blob" / "classifier" / "best.pt")
    with torch.no_grad():
        base = g.generator(x)
        hole, diff = InpaintedCounterfactual._grown_change(x, base, 0.02, 1)
        regions = InpaintedCounterfactual.seeded_regions(hole, diff, 3, 3)
        fills = [g.inpainter.fill(x, regions[:, k:k + 1], g.flip) for k in range(3)]
        logits = torch.stack([clf(f)[:, 0] + 1e4 * (regions[:, k].amax(dim=(1, 2)) <= 0) for k, f in enumerate(fills)], 1)
        want = torch.stack([fills[int(k)][i] for i, k in enumerate(logits.argmin(1))])
        assert torch.allclose(g(x), g.generator(want), atol=1e-6)
    assert _cli("export", "--model", "coin", *common, "--out", str(models)) == 0
    card = _strict_json(models / "kidney-blob-coin" / "model.json")
    clf_card = _strict_json(models / "kidney-blob-classifier" / "model.json")
    assert card["golden"]["maxAbsDiff"] <= 1e-4 and card["training"]["inpaint"]["regions"] == 3
    assert card["training"]["judge"]["sha256"] == clf_card["sha256"]  # the classifier inside the graph
    sess = ort.InferenceSession(str(models / "kidney-blob-coin" / "model.onnx"), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        for batch in (1, 3):  # the choice is part of the graph, at any batch
            got = sess.run(None, {"x": x[:batch].numpy()})[0]
            assert np.abs(got - g(x[:batch]).numpy()).max() <= 1e-4
    restore = ["restore-generator", "--benchmark", "kidney-blob", "--model", "coin", "--runs", str(tmp_path / "r"), "--models", str(models)]
    assert _cli(*restore) == 0
    again, rck = load_generator(tmp_path / "r" / "kidney-blob" / "coin" / "best.pt", "coin")
    with torch.no_grad():
        assert again.regions == 3 and torch.allclose(again(x), g(x), atol=1e-5)
    # Another classifier beside it than the one in the graph: refused, nothing written.
    clf_card["sha256"] = "0" * 64
    (models / "kidney-blob-classifier" / "model.json").write_text(json.dumps(clf_card))
    shutil.rmtree(tmp_path / "r")
    assert _cli(*restore) == 2
    assert "error CHECKPOINT_INVALID" in capfd.readouterr().err and not (tmp_path / "r" / "kidney-blob" / "coin" / "best.pt").exists()
    for bad in ("inpainter.refine.regions=[0]", "inpainter.refine.regions=[9]", "inpainter.refine.regions=[true]", "inpainter.refine.regions=[]"):
        assert _cli("inpaint-refine", *common, "--set", bad) == 2
        assert "error CONFIG_INVALID" in capfd.readouterr().err


def test_should_wrap_coin_with_the_inpainter_chosen_on_val_and_export_it_as_one_generator(exported, tmp_path: Path, capfd):
    import shutil

    from coinseg_train.nets.generator import FineGridCounterfactual
    from coinseg_train.nets.inpainter import InpaintedCounterfactual
    from coinseg_train.train_gan import load_generator

    runs, models = tmp_path / "runs", tmp_path / "models"
    for model in ("classifier", "coin"):
        shutil.copytree(exported["runs"] / "kidney-blob" / model, runs / "kidney-blob" / model)
    common = ["--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(runs)]
    assert _cli("inpaint-refine", *common) == 2  # no inpainter yet
    assert "error CHECKPOINT_NOT_FOUND" in capfd.readouterr().err
    assert _cli("train-inpainter", *common, "--steps", "2") == 0
    assert _cli("inpaint-refine", *common) == 0
    g, ck = load_generator(runs / "kidney-blob" / "coin" / "best.pt", "coin")
    base, _ = load_generator(runs / "kidney-blob" / "coin" / "best-base.pt", "coin")
    assert isinstance(g, InpaintedCounterfactual) and not isinstance(base, InpaintedCounterfactual)
    chosen = ck["inpaint"]
    assert len(chosen["candidates"]) == 24 and chosen["valPooledIoU"] == max(c["pooledIoU"] for c in chosen["candidates"])
    assert {c["flip"] for c in chosen["candidates"]} == {False, True} and chosen["factor"] == 1 and ck["size"] == 32
    # Outside the dilated change region the counterfactual is the slice itself.
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        x_cf, x_base = g(x), base(x)
        hole = ((x - x_base).abs() / 2 > chosen["threshold"]).float()
        for _ in range(chosen["dilate"]):
            hole = torch.nn.functional.max_pool2d(hole, 3, 1, 1)
        # The mirrored fill is the mean of the fill and the mirrored slice's fill mirrored back.
        one = g.inpainter(x, hole)
        mirrored = torch.flip(g.inpainter(torch.flip(x, dims=[3]), torch.flip(hole, dims=[3])), dims=[3])
    assert torch.equal(x_cf[hole == 0], x[hole == 0])
    assert torch.allclose(x_cf, 0.5 * (one + mirrored) if chosen["flip"] else one, atol=1e-6)
    # Run again, it wraps the same base (best-base.pt), not the wrapped model.
    assert _cli("inpaint-refine", *common) == 0
    assert not isinstance(load_generator(runs / "kidney-blob" / "coin" / "best-base.pt", "coin")[0], InpaintedCounterfactual)
    assert _cli("export", "--model", "coin", *common, "--out", str(models)) == 0
    card = _strict_json(models / "kidney-blob-coin" / "model.json")
    assert card["golden"]["maxAbsDiff"] <= 1e-4 and card["training"]["inpaint"]["dilate"] == chosen["dilate"]
    # The hole grid comes from the config when it sets one (inpainter.refine), checked before any work.
    assert _cli("inpaint-refine", *common, "--set", "inpainter.refine.thresholds=[0.1,0.05]", "--set", "inpainter.refine.dilations=[4]") == 0
    grid = load_generator(runs / "kidney-blob" / "coin" / "best.pt", "coin")[1]["inpaint"]["candidates"]
    assert sorted({c["threshold"] for c in grid}) == [0.05, 0.1] and {c["dilate"] for c in grid} == {4} and len(grid) == 4
    # A tiny classifier is sure of no val slice (CV NaN): only minCV 0 (tiny.json) accepts; the wrapped model stays.
    before = (runs / "kidney-blob" / "coin" / "best.pt").read_bytes()
    assert _cli("inpaint-refine", *common, "--set", "inpainter.refine.minCV=1") == 2
    assert "error NO_VALID_CANDIDATE" in capfd.readouterr().err
    assert (runs / "kidney-blob" / "coin" / "best.pt").read_bytes() == before
    for bad in ("inpainter.refine.minCV=1.5", "inpainter.refine.thresholds=[1.5]", "inpainter.refine.thresholds=[]", "inpainter.refine.dilations=[-1]", "inpainter.refine.dilations=[true]",
                "inpainter.refine.components=[4]", "inpainter.refine.components=[33]", "inpainter.refine.components=[]"):
        assert _cli("inpaint-refine", *common, "--set", bad) == 2
        assert "error CONFIG_INVALID" in capfd.readouterr().err
    # Served at twice its size (coin.size 64): the inpainted change of the pooled slice, upsampled onto it.
    assert _cli("inpaint-refine", *common, "--set", "coin.size=48") == 2
    assert "error CONFIG_INVALID" in capfd.readouterr().err
    assert _cli("inpaint-refine", *common, "--set", "coin.size=64") == 0
    fine, ck2 = load_generator(runs / "kidney-blob" / "coin" / "best.pt", "coin")
    assert isinstance(fine, FineGridCounterfactual) and isinstance(fine.generator, InpaintedCounterfactual)
    assert ck2["size"] == 64 and ck2["inpaint"]["factor"] == 2 and ck2["inpaint"]["baseSize"] == 32
    x64 = torch.rand(2, 1, 64, 64) * 2 - 1
    with torch.no_grad():
        xc = torch.nn.functional.avg_pool2d(x64, 2)
        want = torch.clamp(x64 + torch.nn.functional.interpolate(fine.generator(xc) - xc, scale_factor=2.0, mode="bilinear",
                                                                  align_corners=False), -1, 1)
        assert torch.allclose(fine(x64), want, atol=1e-6)
    assert _cli("evaluate", "--model", "coin", *common, "--split", "val") == 0  # at the checkpoint's size too
    assert json.loads((runs / "kidney-blob" / "coin" / "eval-val.json").read_text())["size"] == 64
    assert _cli("export", "--model", "coin", *common, "--out", str(models)) == 0  # the checkpoint's size, not the preset's
    card = _strict_json(models / "kidney-blob-coin" / "model.json")
    assert card["inputs"][0]["shape"] == [-1, 1, 64, 64] and card["preprocess"]["size"] == [64, 64]
    assert card["golden"]["maxAbsDiff"] <= 1e-4 and card["training"]["inpaint"]["factor"] == 2
    # Restored from the graph: the wrapped model (its golden outputs) and the generator it wraps, at 32.
    assert _cli("restore-generator", "--benchmark", "kidney-blob", "--model", "coin", "--runs", str(tmp_path / "r"),
                "--models", str(models)) == 0
    again, rck = load_generator(tmp_path / "r" / "kidney-blob" / "coin" / "best.pt", "coin")
    rbase, bck = load_generator(tmp_path / "r" / "kidney-blob" / "coin" / "best-base.pt", "coin")
    assert isinstance(again, FineGridCounterfactual) and rck["size"] == 64 and rck["inpaint"]["factor"] == 2
    assert not isinstance(rbase, (FineGridCounterfactual, InpaintedCounterfactual)) and bck["size"] == 32
    with torch.no_grad():
        assert torch.allclose(again(x64), fine(x64), atol=1e-5) and torch.allclose(rbase(x), base(x), atol=1e-5)
    # The restored base wraps again (inpaint-refine reads best-base.pt) with the inpainter restored beside it.
    from coinseg_train.train_inpainter import load_inpainter
    restored_inp, inp_ck = load_inpainter(tmp_path / "r" / "kidney-blob" / "inpainter" / "best.pt")
    trained_inp, trained_ck = load_inpainter(runs / "kidney-blob" / "inpainter" / "best.pt")
    assert inp_ck["size"] == 32 and inp_ck["config"]["inpainter"] == trained_ck["config"]["inpainter"]
    with torch.no_grad():
        holes = (torch.rand(2, 1, 32, 32) > 0.7).float()
        assert torch.allclose(restored_inp(x, holes), trained_inp(x, holes), atol=1e-5)
    shutil.copytree(runs / "kidney-blob" / "classifier", tmp_path / "r" / "kidney-blob" / "classifier")
    assert _cli("inpaint-refine", "--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(tmp_path / "r"),
                "--set", "coin.size=64") == 0
    assert load_checkpoint(tmp_path / "r" / "kidney-blob" / "coin" / "best.pt", "coin")["inpaint"]["threshold"] == ck2["inpaint"]["threshold"]
    # Exported from there (no last.pt), the card keeps the training run's record from the restored one.
    assert _cli("export", "--model", "coin", "--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs",
                str(tmp_path / "r"), "--out", str(tmp_path / "m2")) == 0
    again_card = _strict_json(tmp_path / "m2" / "kidney-blob-coin" / "model.json")
    for k in ("wallClockSeconds", "steps", "machine"):
        assert again_card["training"][k] == card["training"][k]


def test_should_run_the_generator_again_on_the_fill_when_regenerate_is_chosen_and_restore_it_from_its_graph(exported, tmp_path: Path):
    import shutil

    from coinseg_train.nets.inpainter import InpaintedCounterfactual
    from coinseg_train.train_gan import load_generator

    runs, models = tmp_path / "runs", tmp_path / "models"
    for model in ("classifier", "coin"):
        shutil.copytree(exported["runs"] / "kidney-blob" / model, runs / "kidney-blob" / model)
    common = ["--benchmark", "kidney-blob", "--data", str(exported["data"]), "--runs", str(runs)]
    assert _cli("train-inpainter", *common, "--steps", "2") == 0
    assert _cli("inpaint-refine", *common, "--set", "inpainter.refine.thresholds=[0.02]", "--set", "inpainter.refine.dilations=[1]",
                "--set", "inpainter.refine.regenerate=[true]", "--set", "inpainter.refine.components=[3]") == 0
    g, ck = load_generator(runs / "kidney-blob" / "coin" / "best.pt", "coin")
    assert isinstance(g, InpaintedCounterfactual) and g.regenerate and ck["inpaint"]["regenerate"] is True
    assert [c["regenerate"] for c in ck["inpaint"]["candidates"]] == [True, True]  # flip False / True
    assert g.component == 3 and ck["inpaint"]["component"] == 3  # the only seed box in the grid
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        hole = InpaintedCounterfactual.hole(x, g.generator(x), 0.02, 1, 3)
        assert torch.allclose(g(x), g.generator(g.inpainter.fill(x, hole, g.flip)), atol=1e-6)
    assert _cli("export", "--model", "coin", *common, "--out", str(models)) == 0
    card = _strict_json(models / "kidney-blob-coin" / "model.json")
    assert card["golden"]["maxAbsDiff"] <= 1e-4 and card["training"]["inpaint"]["regenerate"] is True
    assert card["training"]["inpaint"]["component"] == 3  # the seeded region is part of the ONNX graph
    assert _cli("restore-generator", "--benchmark", "kidney-blob", "--model", "coin", "--runs", str(tmp_path / "r"),
                "--models", str(models)) == 0
    again, _ = load_generator(tmp_path / "r" / "kidney-blob" / "coin" / "best.pt", "coin")
    with torch.no_grad():
        assert again.regenerate and torch.allclose(again(x), g(x), atol=1e-5)
    assert _cli("inpaint-refine", *common, "--set", "inpainter.refine.regenerate=[1]") == 2  # booleans only


def test_should_refuse_an_inpaint_size_for_a_model_other_than_coin():
    import subprocess

    script = Path(__file__).resolve().parents[2] / "scripts" / "train.sh"
    for argv in (["singla", "--inpaint", "256"], ["coin", "--inpaint", "big"]):
        done = subprocess.run(["bash", str(script), "kidney-blob", *argv], capture_output=True, text=True, timeout=60)
        assert done.returncode == 64 and "error USAGE: --inpaint SIZE is for coin" in done.stderr

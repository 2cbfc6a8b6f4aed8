"""Presets: the shipped cpu / paper files validate; bad presets raise CONFIG_INVALID."""

import json
from pathlib import Path

import pytest

from coinseg_train.config import generator_size, load_config
from coinseg_train.errors import TrainError


@pytest.mark.parametrize("name,size,d_steps", [("cpu", 128, 1), ("paper", 256, 5)])
def test_should_load_the_shipped_presets(name, size, d_steps):
    cfg = load_config(name)
    assert cfg["size"] == size and cfg["coin"]["dStepsPerGStep"] == d_steps
    assert cfg["coin"]["lossWeights"] == {"adv": 1, "kl": 5, "rec": 1, "tv": 0.05}
    assert cfg["singla"]["lossWeights"] == {"adv": 1, "kl": 1, "rec": 1, "tv": 0}
    assert cfg["coin"]["betas"] == [0.0, 0.999] and cfg["coin"]["lrG"] == 2e-4 and cfg["coin"]["batchSize"] == 16
    assert cfg["singla"]["generator"]["widths"] == cfg["coin"]["generator"]["widths"]  # inherited


def test_should_zero_init_the_head_only_in_the_cpu_preset():
    assert load_config("cpu")["coin"]["generator"]["zeroInitHead"] is True
    assert load_config("paper")["coin"]["generator"]["zeroInitHead"] is False


def test_should_apply_overrides_parsed_as_json():
    cfg = load_config("cpu", ["coin.minutes=5", "coin.ema.decay=0.99"])
    assert cfg["coin"]["minutes"] == 5 and cfg["coin"]["ema"]["decay"] == 0.99


def test_should_list_every_problem_when_a_preset_is_invalid(tmp_path: Path):
    bad = json.loads(Path(load_config("cpu")["presetPath"]).read_text())
    bad["size"] = 100
    del bad["coin"]["lrG"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(TrainError) as err:
        load_config(str(path))
    assert err.value.code == "CONFIG_INVALID"
    assert "coin.lrG" in err.value.message


def test_should_raise_config_invalid_when_the_preset_does_not_exist():
    with pytest.raises(TrainError) as err:
        load_config("no-such-preset")
    assert err.value.code == "CONFIG_INVALID"


def test_should_refuse_an_unknown_selection_rule():
    assert load_config("cpu", ["coin.selection=refined"])["coin"]["selection"] == "refined"
    with pytest.raises(TrainError) as err:
        load_config("cpu", ["coin.selection=best"])
    assert err.value.code == "CONFIG_INVALID" and "coin.selection" in err.value.message


def test_should_let_a_generator_work_at_a_multiple_of_the_classifier_size():
    assert generator_size(load_config("cpu"), "coin") == 128
    cfg = load_config("cpu", ["coin.size=256"])
    assert generator_size(cfg, "coin") == 256 and generator_size(cfg, "singla") == 256  # inherited
    assert generator_size(cfg, "classifier") == 128
    for bad in ("192", "64", "true", '"256"'):
        with pytest.raises(TrainError) as err:
            load_config("cpu", [f"coin.size={bad}"])
        assert err.value.code == "CONFIG_INVALID" and "coin.size" in err.value.message

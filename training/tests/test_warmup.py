"""Identity warm-up of the generators (train_gan.warm_up_identity)."""

import numpy as np
import torch

from coinseg_train.losses import l1
from coinseg_train.nets.generator import Generator
from coinseg_train.train_gan import warm_up_identity


def _saturated_slices(n: int) -> np.ndarray:
    # CT-like: most pixels at the window's edges (air/fat at -1, bone at +1), some soft tissue between.
    rng = np.random.default_rng(0)
    x = rng.choice([-1.0, 1.0, 0.0], size=(n, 1, 32, 32), p=[0.6, 0.1, 0.3]).astype(np.float32)
    x[x == 0.0] = rng.uniform(-0.5, 0.5, size=int((x == 0.0).sum())).astype(np.float32)
    return x


def test_should_bring_coin_output_close_to_identity_when_warmed_up():
    torch.manual_seed(0)
    x = _saturated_slices(32)
    g = Generator([4, 4, 8, 8, 8], 1, perturbation=True, zero_init_head=True)
    xt = torch.from_numpy(x)
    with torch.no_grad():
        before = l1(xt, g.eval()(xt)).item()  # X_cf = tanh(X): far from X where X = ±1
    info = warm_up_identity(g, x, None, {"steps": 60, "lr": 3e-3}, torch.Generator().manual_seed(0), 8)
    with torch.no_grad():
        after = l1(xt, g.eval()(xt)).item()
    assert info["steps"] == 60 and info["seconds"] > 0
    assert before > 0.1
    assert after < 0.5 * before


def test_should_leave_generator_untouched_when_warmup_has_no_steps():
    g = Generator([4, 4, 8, 8, 8], 1, perturbation=True, zero_init_head=True)
    state = {k: v.clone() for k, v in g.state_dict().items()}
    info = warm_up_identity(g, _saturated_slices(4), None, {}, torch.Generator().manual_seed(0), 2)
    assert info["steps"] == 0
    assert all(torch.equal(state[k], v) for k, v in g.state_dict().items())


def test_should_condition_singla_on_the_slices_own_class_when_warming_up():
    torch.manual_seed(0)
    x = _saturated_slices(16)
    own = np.zeros(16, dtype=np.float32)
    own[::2] = 1.0
    g = Generator([4, 4, 8, 8, 8], 2, perturbation=False)
    xt, ct = torch.from_numpy(x), torch.from_numpy(own)
    with torch.no_grad():
        before = l1(xt, g.eval()(xt, ct)).item()
    info = warm_up_identity(g, x, own, {"steps": 60, "lr": 3e-3}, torch.Generator().manual_seed(0), 8)
    with torch.no_grad():
        after = l1(xt, g.eval()(xt, ct)).item()
    assert info["steps"] == 60
    assert after < 0.5 * before

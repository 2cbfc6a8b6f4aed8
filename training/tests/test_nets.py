"""Network properties: the classifier's in-graph gradient equals autograd, zero-initialised COIN
head, Singla conditions, spectral-norm baking."""

import torch
from torch.nn.utils import parametrize

from coinseg_train.export import bake_spectral_norm
from coinseg_train.data import preprocess_hu
from coinseg_train.nets.classifier import Classifier, ClassifierExport, ResizedClassifier
from coinseg_train.nets.discriminator import Discriminator
from coinseg_train.nets.generator import Generator


def _trained_like(module: torch.nn.Module) -> torch.nn.Module:
    # Random non-trivial batch-norm statistics, then eval mode, so the test is not on a degenerate net.
    g = torch.Generator().manual_seed(0)
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    return module.eval()


def test_should_equal_autograd_when_computing_activations_grad_in_graph():
    torch.manual_seed(0)
    clf = _trained_like(Classifier([4, 8, 8, 16], [1, 1, 1, 1], 3, 2, False))
    x = torch.randn(3, 1, 32, 32)
    logit, a, grad = ClassifierExport(clf)(x)
    a_leaf = a.detach().requires_grad_(True)
    (ref,) = torch.autograd.grad(clf.head(a_leaf).sum(), a_leaf)
    assert grad.shape == a.shape == (3, 16, 2, 2)
    assert torch.allclose(grad, ref, atol=1e-7, rtol=0)
    assert torch.allclose(logit, clf(x), atol=1e-6)
    assert ref.abs().max() > 0


def test_should_return_tanh_of_input_when_coin_head_is_zero_initialised():
    g = Generator([4, 4, 8, 8, 8], 1, perturbation=True, zero_init_head=True).eval()
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    assert torch.allclose(g(x), torch.tanh(x), atol=0)


def test_should_change_output_with_condition_when_singla_has_two_conditions():
    torch.manual_seed(1)
    g = Generator([4, 4, 8, 8, 8], 2, perturbation=False).eval()
    with torch.no_grad():
        for m in g.modules():
            if hasattr(m, "gamma") and m.gamma.shape[0] == 2:
                m.gamma[1].uniform_(0.5, 1.5)
                m.beta[1].uniform_(-0.5, 0.5)
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    y0, y1 = g(x, torch.zeros(2)), g(x, torch.ones(2))
    assert (y0 - y1).abs().max() > 1e-3
    assert y0.abs().max() <= 1 and y1.abs().max() <= 1
    mixed = g(x, torch.tensor([0.0, 1.0]))
    assert torch.allclose(mixed[0], y0[0], atol=1e-6) and torch.allclose(mixed[1], y1[1], atol=1e-6)


def test_should_keep_outputs_and_drop_parametrizations_when_baking_spectral_norm():
    torch.manual_seed(2)
    d = Discriminator([4, 4, 8, 8, 8]).eval()
    x, y = torch.randn(2, 1, 32, 32), torch.tensor([0, 1])
    with torch.no_grad():
        before = d(x, y)
    bake_spectral_norm(d)
    assert not any(parametrize.is_parametrized(m) for m in d.modules())
    with torch.no_grad():
        assert torch.allclose(d(x, y), before, atol=1e-5)


def test_should_sum_patch_logits_to_the_global_logit_when_discriminator_is_patch():
    # The patch D applies the global D's linear + projection per location: with the same weights,
    # its logits summed over locations equal the global logit (the linear bias counted once per
    # location), so the only change is where the loss is taken.
    torch.manual_seed(3)
    g = Discriminator([4, 4, 8, 8, 8]).eval()
    p = Discriminator([4, 4, 8, 8, 8], patch=True).eval()
    p.load_state_dict(g.state_dict())
    x, y = torch.randn(3, 1, 32, 32), torch.tensor([0, 1, 1])
    with torch.no_grad():
        out_g, out_p = g(x, y), p(x, y)
    assert out_p.shape == (3, 1, 2, 2)
    bias = g.linear.bias.detach()
    assert torch.allclose(out_p.sum(dim=(2, 3)) - 3 * bias, out_g, atol=1e-4)


def test_should_centre_the_crop_on_the_largest_change_and_keep_it_inside_the_image():
    from coinseg_train.local_crops import crop_at, edit_centres

    x = torch.zeros(3, 1, 16, 16)
    x_cf = x.clone()
    x_cf[0, 0, 8, 9] = 1.0  # interior change
    x_cf[1, 0, 0, 15] = 1.0  # top-right corner: the window is moved inwards
    # slice 2 unchanged: first maximum in raster order, i.e. the top-left window
    corners = edit_centres(x, x_cf, crop=6, smooth=1)
    assert corners.tolist() == [[5, 6], [0, 10], [0, 0]]
    crops = crop_at(x_cf, corners, 6)
    assert crops.shape == (3, 1, 6, 6)
    assert crops[0, 0, 3, 3] == 1.0 and crops[1, 0, 0, 5] == 1.0 and crops[2].abs().sum() == 0


def test_should_pass_gradients_through_the_crop():
    from coinseg_train.local_crops import crop_at

    x = torch.randn(2, 1, 8, 8, requires_grad=True)
    crop_at(x, torch.tensor([[1, 2], [4, 4]]), 4).sum().backward()
    assert x.grad is not None and x.grad.sum().item() == 32.0
    assert x.grad[0, 0, 1:5, 2:6].eq(1).all() and x.grad[0, 0, 0].eq(0).all()


def test_should_judge_a_native_size_slice_as_the_classifier_judges_it_preprocessed_at_its_own_size():
    # A generator trained at the native 64 is judged by a 32 classifier through ResizedClassifier:
    # f(resize(preprocess(hu, 64))) must equal f(preprocess(hu, 32)) — the service's input to f.
    clf = _trained_like(Classifier([4, 8, 8, 8], [1, 1, 1, 1], 3, 1, False))
    hu = torch.randn(3, 1, 64, 64, generator=torch.Generator().manual_seed(1)) * 120 + 60
    window = (-40.0, 260.0)
    with torch.no_grad():
        direct = clf(preprocess_hu(hu, window, 32))
        resized = ResizedClassifier(clf, 32)(preprocess_hu(hu, window, 64))
        same_size = ResizedClassifier(clf, 32)(preprocess_hu(hu, window, 32))
    assert torch.allclose(direct, resized, atol=1e-6)
    assert torch.equal(direct, same_size)

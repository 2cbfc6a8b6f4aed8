"""A masked inpainter: fills the pixels of a hole from the rest of the slice. Trained on normal slices
only (image-level labels), it predicts what normal tissue would be where a counterfactual's change is."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .generator import Generator


class Inpainter(nn.Module):
    """The COIN encoder-decoder (:class:`Generator`, one condition) on two channels — the slice with the
    hole set to 0, and the hole — whose head is the fill's logit: ``fill(x, hole) = x (1 - hole) +
    tanh(head) hole``."""

    def __init__(self, widths: list[int]) -> None:
        super().__init__()
        self.net = Generator(widths, 1, perturbation=False)
        self.net.stem = nn.Conv2d(2, widths[0], 3, 1, 1)

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> "Inpainter":
        return cls([int(w) for w in cfg["widths"]])

    def forward(self, x: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """``x`` ``[B, 1, S, S]`` in [-1, 1], ``hole`` ``[B, 1, S, S]`` in {0, 1} → the filled slice."""
        predicted = torch.tanh(self.net.head(torch.cat([x * (1 - hole), hole], dim=1)))
        return x * (1 - hole) + predicted * hole

    def fill(self, x: torch.Tensor, hole: torch.Tensor, flip: bool) -> torch.Tensor:
        """The fill, with ``flip`` the mean of it and of the mirrored slice's fill mirrored back (both
        equal ``x`` outside the hole)."""
        out = self(x, hole)
        if flip:
            out = 0.5 * (out + torch.flip(self(torch.flip(x, dims=[3]), torch.flip(hole, dims=[3])), dims=[3]))
        return out


class InpaintedCounterfactual(nn.Module):
    """A COIN generator whose change region is refilled by the inpainter: the hole is where the
    generator's difference |X − G(X)|/2 exceeds ``threshold``, grown by ``dilate`` 3 × 3 dilations, and
    X_cf = the inpainter's fill of that hole (with ``flip``, averaged with the mirrored slice's fill).
    The generator finds the target (the classifier's evidence); the inpainter, which knows only normal
    slices, decides what the hole's pixels should have been — including those the classifier cannot
    see (the target's faint rim). With ``regenerate`` the generator runs again on the filled slice and its
    output is X_cf: where the fill leaves evidence the classifier still calls abnormal (a blurred fill
    can look like a lesion), the generator removes it with its usual small changes. With ``component``
    (an odd box size, 0 = off) the hole is only its connected region that holds the strongest change
    (:meth:`seeded_component`): a weak generator's change is speckled over the whole organ, and every
    speckle grown into the hole is tissue the inpainter must guess. With ``regions`` > 1 (and a
    ``classifier``, the frozen one COIN explains) the hole's ``regions`` strongest such regions are each
    filled, and the fill the classifier calls least abnormal is kept (:meth:`judged_fill`): the strongest
    change is not always the target (a weak generator barely touches a hyperdense lesion), but the
    classifier's evidence is."""

    def __init__(self, generator: nn.Module, inpainter: Inpainter, threshold: float, dilate: int, flip: bool = False,
                 regenerate: bool = False, component: int = 0, regions: int = 1,
                 classifier: nn.Module | None = None) -> None:
        super().__init__()
        if regions > 1 and (classifier is None or component <= 0):
            raise ValueError("choosing among the hole's regions needs a classifier and a seed box (component > 0)")
        self.generator = generator
        self.inpainter = inpainter
        self.threshold = float(threshold)
        self.dilate = int(dilate)
        self.flip = bool(flip)
        self.regenerate = bool(regenerate)
        self.component = int(component)
        self.regions = int(regions)
        self.classifier = classifier if regions > 1 else None

    @classmethod
    def from_spec(cls, generator: nn.Module, inpainter: Inpainter, spec: dict[str, Any],
                  classifier: nn.Module | None = None) -> "InpaintedCounterfactual":
        """From an ``inpaint`` section (a checkpoint's, or a model card's ``training.inpaint``); ``classifier``
        when it chooses among ``regions`` > 1."""
        return cls(generator, inpainter, float(spec["threshold"]), int(spec["dilate"]), bool(spec.get("flip", False)),
                   bool(spec.get("regenerate", False)), int(spec.get("component") or 0), int(spec.get("regions") or 1),
                   classifier)

    @staticmethod
    def hole(x: torch.Tensor, x_cf: torch.Tensor, threshold: float, dilate: int, component: int = 0) -> torch.Tensor:
        """Where |X − X_cf|/2 exceeds ``threshold``, grown by ``dilate`` 3 × 3 dilations (1 inside); with
        ``component`` > 0 only the hole's region around the strongest change (:meth:`seeded_component`)."""
        hole, diff = InpaintedCounterfactual._grown_change(x, x_cf, threshold, dilate)
        return InpaintedCounterfactual.seeded_component(hole, diff, component) if component > 0 else hole

    @staticmethod
    def _grown_change(x: torch.Tensor, x_cf: torch.Tensor, threshold: float, dilate: int) -> tuple[torch.Tensor, torch.Tensor]:
        diff = (x - x_cf).abs() * 0.5
        hole = (diff > threshold).to(x.dtype)
        for _ in range(dilate):
            hole = F.max_pool2d(hole, 3, 1, 1)
        return hole, diff

    @staticmethod
    def seeded_component(hole: torch.Tensor, diff: torch.Tensor, box: int) -> torch.Tensor:
        """The 8-connected region of ``hole`` (``[B, 1, H, W]``, {0, 1}) that holds the pixel where the
        ``box`` × ``box`` mean of ``diff`` inside the hole is largest (every such pixel on a tie; an empty hole
        stays empty). Grown from that seed by max(H, W) 3 × 3 dilations, each cut back to the hole, which
        reaches any pixel of a region whose geodesic radius around the seed is at most max(H, W) — plain
        tensor operations, so it exports to ONNX as part of the graph. ``box`` must be odd."""
        return InpaintedCounterfactual.seeded_regions(hole, diff, box, 1)

    @staticmethod
    def seeded_regions(hole: torch.Tensor, diff: torch.Tensor, box: int, count: int) -> torch.Tensor:
        """``[B, count, H, W]``: the hole's regions around its ``count`` strongest changes, strongest first —
        region k as :meth:`seeded_component` once the regions before it are taken out of the change's
        strength (so each is another 8-connected region of the hole); all 0 where the hole has fewer."""
        if box % 2 != 1:
            raise ValueError(f"the seed's box must be odd, got {box}")
        if count < 1:
            raise ValueError(f"at least one region, got {count}")
        strength = F.avg_pool2d(diff * hole, box, 1, box // 2) * hole  # box 1: diff inside the hole
        regions = []
        for _ in range(count):
            peak = strength.amax(dim=(2, 3), keepdim=True)
            region = ((strength >= peak) & (strength > 0)).to(hole.dtype)
            for _ in range(max(hole.shape[-2:])):
                region = F.max_pool2d(region, 3, 1, 1) * hole
            regions.append(region)
            strength = strength * (1 - region)
        return torch.cat(regions, dim=1)

    def judged_fill(self, x: torch.Tensor, x_cf: torch.Tensor) -> torch.Tensor:
        """The fill of whichever of the hole's ``regions`` strongest regions the classifier then calls least
        abnormal (the lowest logit; an empty region only when all are, the mean on an exact tie) — plain
        tensor operations, so the choice is part of the ONNX graph."""
        assert self.classifier is not None
        hole, diff = self._grown_change(x, x_cf, self.threshold, self.dilate)
        regions = self.seeded_regions(hole, diff, self.component, self.regions)
        b, k, h, w = regions.shape
        fills = self.inpainter.fill(x.unsqueeze(1).expand(b, k, 1, h, w).reshape(b * k, 1, h, w),
                                    regions.reshape(b * k, 1, h, w), self.flip)
        empty = (regions.amax(dim=(2, 3)) <= 0).to(x.dtype)
        logits = self.classifier(fills).reshape(b, k) + 1e4 * empty
        chosen = (logits <= logits.amin(dim=1, keepdim=True)).to(x.dtype)
        chosen = chosen / chosen.sum(dim=1, keepdim=True)
        return (chosen.reshape(b, k, 1, 1, 1) * fills.reshape(b, k, 1, h, w)).sum(dim=1)

    def refill(self, x: torch.Tensor, x_cf: torch.Tensor) -> torch.Tensor:
        """``x`` with the hole of the generator's counterfactual ``x_cf`` refilled: the classifier's choice of
        region (:meth:`judged_fill`) with ``regions`` > 1, else the one hole."""
        if self.regions > 1:
            return self.judged_fill(x, x_cf)
        return self.inpainter.fill(x, self.hole(x, x_cf, self.threshold, self.dilate, self.component), self.flip)

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        filled = self.refill(x, self.generator(x, condition))
        return self.generator(filled, condition) if self.regenerate else filled

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
    speckle grown into the hole is tissue the inpainter must guess."""

    def __init__(self, generator: nn.Module, inpainter: Inpainter, threshold: float, dilate: int, flip: bool = False,
                 regenerate: bool = False, component: int = 0) -> None:
        super().__init__()
        self.generator = generator
        self.inpainter = inpainter
        self.threshold = float(threshold)
        self.dilate = int(dilate)
        self.flip = bool(flip)
        self.regenerate = bool(regenerate)
        self.component = int(component)

    @classmethod
    def from_spec(cls, generator: nn.Module, inpainter: Inpainter, spec: dict[str, Any]) -> "InpaintedCounterfactual":
        """From an ``inpaint`` section (a checkpoint's, or a model card's ``training.inpaint``)."""
        return cls(generator, inpainter, float(spec["threshold"]), int(spec["dilate"]), bool(spec.get("flip", False)),
                   bool(spec.get("regenerate", False)), int(spec.get("component") or 0))

    @staticmethod
    def hole(x: torch.Tensor, x_cf: torch.Tensor, threshold: float, dilate: int, component: int = 0) -> torch.Tensor:
        """Where |X − X_cf|/2 exceeds ``threshold``, grown by ``dilate`` 3 × 3 dilations (1 inside); with
        ``component`` > 0 only the hole's region around the strongest change (:meth:`seeded_component`)."""
        diff = (x - x_cf).abs() * 0.5
        hole = (diff > threshold).to(x.dtype)
        for _ in range(dilate):
            hole = F.max_pool2d(hole, 3, 1, 1)
        return InpaintedCounterfactual.seeded_component(hole, diff, component) if component > 0 else hole

    @staticmethod
    def seeded_component(hole: torch.Tensor, diff: torch.Tensor, box: int) -> torch.Tensor:
        """The 8-connected region of ``hole`` (``[B, 1, H, W]``, {0, 1}) that holds the pixel where the
        ``box`` × ``box`` mean of ``diff`` inside the hole is largest (every such pixel on a tie; an empty hole
        stays empty). Grown from that seed by max(H, W) 3 × 3 dilations, each cut back to the hole, which
        reaches any pixel of a region whose geodesic radius around the seed is at most max(H, W) — plain
        tensor operations, so it exports to ONNX as part of the graph. ``box`` must be odd."""
        if box % 2 != 1:
            raise ValueError(f"the seed's box must be odd, got {box}")
        strength = F.avg_pool2d(diff * hole, box, 1, box // 2) * hole  # box 1: diff inside the hole
        peak = strength.amax(dim=(2, 3), keepdim=True)
        region = ((strength >= peak) & (strength > 0)).to(hole.dtype)
        for _ in range(max(hole.shape[-2:])):
            region = F.max_pool2d(region, 3, 1, 1) * hole
        return region

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        hole = self.hole(x, self.generator(x, condition), self.threshold, self.dilate, self.component)
        filled = self.inpainter.fill(x, hole, self.flip)
        return self.generator(filled, condition) if self.regenerate else filled

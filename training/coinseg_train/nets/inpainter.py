"""A masked inpainter: fills the pixels of a hole from the rest of the slice. Trained on normal slices
only (image-level labels), it predicts what normal tissue would be where a counterfactual's change is."""

from __future__ import annotations

from typing import Any

import torch
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

"""Spectral-norm residual projection discriminator (training only, never exported)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class DiscBlock(nn.Module):
    """Residual block with spectral-norm convs; ``first`` skips the leading ReLU (input is an image)."""

    def __init__(self, cin: int, cout: int, down: bool, first: bool = False) -> None:
        super().__init__()
        self.down, self.first = down, first
        self.conv1 = spectral_norm(nn.Conv2d(cin, cout, 3, 1, 1))
        self.conv2 = spectral_norm(nn.Conv2d(cout, cout, 3, 1, 1))
        self.skip: nn.Module | None = spectral_norm(nn.Conv2d(cin, cout, 1)) if (cin != cout or down) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x if self.first else F.relu(x)
        h = self.conv2(F.relu(self.conv1(h)))
        if self.down:
            h = F.avg_pool2d(h, 2)
        s = x
        if self.skip is not None:
            # Pool first for the input block (cheaper, as in SN-GAN's optimized block), last otherwise.
            s = self.skip(F.avg_pool2d(s, 2)) if (self.first and self.down) else self.skip(s)
            if self.down and not self.first:
                s = F.avg_pool2d(s, 2)
        return h + s


class Discriminator(nn.Module):
    """D(x, y): x ``[B, 1, S, S]``, y ``[B]`` int64 class (0 normal, 1 abnormal) → logit ``[B, 1]``.

    Output = linear(sum-pooled features) + <embed(y), features> (projection). widths has 5 entries:
    4 downsampling blocks then one block at the same resolution. With ``patch`` the same linear and
    projection are applied at every location of the last feature map instead of to its sum, and the
    logit is ``[B, 1, S/16, S/16]`` (one judgement per receptive field, as in a PatchGAN): the losses
    average over locations, so a local flaw (a kidney outline that bulges where the lesion was) is
    not diluted by the rest of the slice.
    """

    def __init__(self, widths: list[int], num_classes: int = 2, patch: bool = False) -> None:
        super().__init__()
        self.patch = patch
        blocks = [DiscBlock(1, widths[0], True, first=True)]
        for i in range(1, 4):
            blocks.append(DiscBlock(widths[i - 1], widths[i], True))
        blocks.append(DiscBlock(widths[3], widths[4], False))
        self.blocks = nn.ModuleList(blocks)
        self.linear = spectral_norm(nn.Linear(widths[4], 1))
        self.embed = spectral_norm(nn.Embedding(num_classes, widths[4]))

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> "Discriminator":
        """Build from the ``coin`` / ``singla`` section of a preset."""
        d = cfg["discriminator"]
        return cls(d["widths"], patch=bool(d.get("patch", False)))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = x
        for block in self.blocks:
            h = block(h)
        h = F.relu(h)
        # Features with channels last: [B, C] summed over locations, or [B, H, W, C] per location.
        f = h.permute(0, 2, 3, 1) if self.patch else h.sum(dim=(2, 3))
        e = self.embed(y).view(y.shape[0], *([1] * (f.dim() - 2)), -1)
        out = self.linear(f) + (e * f).sum(dim=-1, keepdim=True)
        return out.permute(0, 3, 1, 2) if self.patch else out
